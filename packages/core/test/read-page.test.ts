import { describe, expect, it } from 'vitest';
import {
  createEventStore,
  createMemoryKv,
  pageEventWeight,
  payloadSize,
  type ReadOptions,
  type RecordedEvent,
  readPage,
} from '../src/index.js';

const setup = async (count: number) => {
  const stream = createEventStore({ kv: createMemoryKv() }).stream({ type: 'A', id: '1' });
  for (let i = 1; i <= count; i += 50) {
    await stream.append(
      Array.from({ length: Math.min(50, count - i + 1) }, (_, j) => ({
        type: 'E',
        data: { n: i + j, text: 'x'.repeat(((i + j) % 7) * 10) },
      })),
    );
  }
  return stream;
};

/** Every page of a read, following `next`. */
const follow = async (
  stream: Awaited<ReturnType<typeof setup>>,
  options: ReadOptions,
  limits: { maxEvents: number; maxBytes: number },
) => {
  const measure = (e: { data?: unknown }) => JSON.stringify(e.data).length;
  const pages = [await readPage(stream, options, limits, measure)];
  while (pages.at(-1)?.next)
    pages.push(await readPage(stream, pages.at(-1)!.next!, limits, measure));
  return pages;
};

describe('readPage', () => {
  it('cuts a read into pages bounded by count and bytes that together are the read', async () => {
    const stream = await setup(230);
    for (const options of [
      {},
      { from: 17, to: 200 },
      { direction: 'backward' as const, limit: 120 },
    ]) {
      const pages = await follow(stream, options, { maxEvents: 40, maxBytes: 900 });
      expect(pages.flatMap((p) => p.events)).toEqual(await stream.read(options));
      for (const page of pages) {
        expect(page.events.length).toBeLessThanOrEqual(40);
        const bytes = page.events
          .slice(1)
          .reduce((sum, e) => sum + JSON.stringify(e.data).length, 0);
        expect(bytes).toBeLessThanOrEqual(900);
      }
      expect(pages.length).toBeGreaterThan(1);
    }
  });

  it('pins the end of an open read on its first page: later appends are not part of it', async () => {
    const stream = await setup(100);
    const limits = { maxEvents: 30, maxBytes: 1 << 20 };
    const measure = () => 1;
    const first = await readPage(stream, {}, limits, measure);
    await stream.append({ type: 'E', data: { n: 101 } });
    expect(first.next).toMatchObject({ from: 31, to: 100 });
    let page = first;
    const events = [...first.events];
    while (page.next) {
      page = await readPage(stream, page.next, limits, measure);
      events.push(...page.events);
    }
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('a first event heavier than the byte bound still goes, alone; bad options are the store’s errors', async () => {
    const stream = await setup(3);
    const page = await readPage(stream, {}, { maxEvents: 10, maxBytes: 1 }, () => 50);
    expect(page.events).toHaveLength(1);
    expect(page.next).toMatchObject({ from: 2, to: 3 });
    await expect(
      readPage(stream, { limit: 0 }, { maxEvents: 1, maxBytes: 1 }, () => 1),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'options.limit',
    });
  });

  it('pageEventWeight: data, metadata and type in payloadSize units, or the whole page for a value outside the contract', async () => {
    const stream = await setup(3);
    const [event] = await stream.read({ limit: 1 });
    const weigh = pageEventWeight(1000);
    expect(weigh(event!)).toBe(
      16 + event!.type.length + payloadSize(event!.data) + payloadSize(event!.metadata),
    );
    class Money {
      constructor(readonly cents: number) {}
    }
    const outside = { ...event!, data: new Money(5) } as RecordedEvent;
    expect(() => payloadSize(outside.data)).toThrow();
    expect(weigh(outside)).toBe(1000);
  });
});
