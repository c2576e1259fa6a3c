import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import {
  errorToJSON,
  fromWireJson,
  isCorruptRecordError,
  type ReadOptions,
  type RecordedEvent,
  storedToWire,
} from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  createDurableObjectKv,
  streamObjectName,
  WIRE_PAGE_MAX_BYTES,
  type WirePage,
} from '../src/index.js';
import type { ReadPage } from '../src/object/calls.js';
import { uniqueRef } from './helpers.js';

type Limits = { maxEvents: number; maxBytes: number };
/** What the Worker calls on a Durable Object's stream for `GET .../events`. */
type Paged = {
  readPage(options: ReadOptions, limits: Limits): Promise<ReadPage>;
  readWirePage(options: ReadOptions, limits: Limits): Promise<WirePage>;
};

const store = createDurableObjectEventStore(env.STORE);
const pagedStream = (ref: ReturnType<typeof uniqueRef>) =>
  store.stream(ref) as unknown as Paged & ReturnType<typeof store.stream>;

/**
 * Every text page of a read, each beside the text the Worker wrote for the same page
 * before the object wrote it: the page as a value over RPC (`readPage`), then written
 * by the Worker's encoder (`storedToWire`).
 */
const textPages = async (stream: Paged, options: ReadOptions, limits: Limits) => {
  const out: { text: string; before: string; events: number }[] = [];
  let next: ReadOptions | undefined = options;
  while (next !== undefined) {
    const page = await stream.readWirePage(next, limits);
    const before = storedToWire(await stream.readPage(next, limits));
    out.push({ text: page.text, before, events: page.events });
    next = (fromWireJson(page.text) as { next?: ReadOptions }).next;
  }
  return out;
};

const tricky = [
  {
    type: 'Opened',
    data: {
      at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
      big: 12_345_678_901_234_567_890n,
      zero: -0,
      numbers: [1, -0, Number.NaN, Number.POSITIVE_INFINITY, 0.1],
      $ref: 'a name starting with $, not a tag',
      nested: { $date: 'not a date' },
      text: 'café ☕ 𝄞 \u0000\u001f "quoted" \\ \u2028 end',
    },
  },
  {
    type: 'Mapped',
    data: {
      m: new Map<unknown, unknown>([
        ['k', 1n],
        [2, new Date(0)],
      ]),
      s: new Set(['a', 'b']),
      u: undefined,
      bytes: new Uint8Array([0, 1, 255]),
    },
  },
  { type: 'Plain', data: { n: 1, s: 'plain JSON as it is', list: [true, null, 'x'] } },
  { type: 'Ünïcødé ✓ 日本', data: { '𝄞 key': 'välue', ключ: ['значение'] } },
  { type: 'Empty', data: {} },
];

describe("the object writes the text of the Worker's GET .../events page (readWire)", () => {
  it('is the text the Worker wrote for the same page: Dates, BigInt, -0, $-keys, Unicode', async () => {
    const ref = uniqueRef();
    const stream = pagedStream(ref);
    await stream.append(tricky);
    await stream.append(tricky.slice(2));
    const all = await stream.read();
    for (const options of [
      {},
      { from: 2, to: 6 },
      { direction: 'backward' },
      { direction: 'backward', from: 6, limit: 4 },
    ] as const) {
      for (const limits of [
        { maxEvents: 500, maxBytes: 4 * 1024 * 1024 },
        { maxEvents: 2, maxBytes: 1 << 20 },
      ]) {
        const pages = await textPages(stream, options, limits);
        for (const page of pages) expect(page.text).toBe(page.before);
        const events = pages.flatMap(
          (p) => (fromWireJson(p.text) as { events: RecordedEvent[] }).events,
        );
        expect(pages.map((p) => p.events)).toEqual(
          pages.map((p) => (fromWireJson(p.text) as { events: unknown[] }).events.length),
        );
        expect(events).toEqual(await stream.read(options));
      }
    }
    const first = (
      fromWireJson((await stream.readWirePage({}, { maxEvents: 9, maxBytes: 1 << 20 })).text) as {
        events: RecordedEvent<{ type: string; data: { zero?: number; big?: bigint; at?: Date } }>[];
      }
    ).events;
    expect(Object.is(first[0]?.data.zero, -0)).toBe(true);
    expect(first[0]?.data.big).toBe(12_345_678_901_234_567_890n);
    expect(first[0]?.data.at).toEqual(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)));
    expect(first).toEqual(all);
  });

  it('cuts the same pages by bytes, and at most WIRE_PAGE_MAX_BYTES of events a page', async () => {
    const ref = uniqueRef();
    const stream = pagedStream(ref);
    const sized = (n: number) => ({ type: 'Sized', data: { n, pad: 'x'.repeat((n % 4) * 300) } });
    await stream.append(Array.from({ length: 30 }, (_, i) => sized(i + 1)));
    const pages = await textPages(stream, {}, { maxEvents: 100, maxBytes: 1500 });
    expect(pages.length).toBeGreaterThan(3);
    for (const page of pages) expect(page.text).toBe(page.before);
    expect(pages.reduce((n, p) => n + p.events, 0)).toBe(30);

    // 25 events of 200 KiB: the object's own page (8 MiB) holds them all, a text page 4 MiB.
    const big = uniqueRef();
    const large = pagedStream(big);
    const pad = 'y'.repeat(200 * 1024);
    for (let i = 0; i < 25; i += 5) {
      await large.append(
        Array.from({ length: 5 }, (_, j) => ({ type: 'Big', data: { n: i + j, pad } })),
      );
    }
    const limits = { maxEvents: 500, maxBytes: 8 * 1024 * 1024 };
    expect((await large.readPage({}, limits)).events).toHaveLength(25);
    const page = await large.readWirePage({}, limits);
    const atFour = await large.readPage({}, { maxEvents: 500, maxBytes: WIRE_PAGE_MAX_BYTES });
    expect(page.events).toBe(20);
    expect(page.text).toBe(storedToWire(atFour));
    expect((fromWireJson(page.text) as { next?: ReadOptions }).next).toEqual({ from: 21, to: 25 });
  });

  it('an event that cannot be written as wire JSON is the CorruptRecordError the Worker raised, naming it', async () => {
    const ref = uniqueRef();
    const stream = pagedStream(ref);
    await stream.append([
      { type: 'Fine', data: { n: 1 } },
      { type: 'Fine', data: { n: 2 } },
    ]);
    // Older data the payload contract would refuse today: event 2 made cyclic in storage.
    await runInDurableObject(
      env.STORE.get(env.STORE.idFromName(streamObjectName(ref))),
      async (_instance, state) => {
        // The stream's event entries, in version order (`{db}/e/{type}/{id}/{version}`).
        const events = [...state.storage.kv.list()]
          .map(([key]) => key)
          .filter((key) => key.includes('/e/'));
        expect(events).toHaveLength(2);
        const key = events[1] as string;
        await createDurableObjectKv(state.storage).write([key], ([value]) => {
          const record = value as Record<string, unknown>;
          const data: Record<string, unknown> = { n: 2 };
          data.self = data;
          return { puts: [{ key, value: { ...record, data } }] };
        });
      },
    );
    const caught = (run: () => Promise<unknown>) =>
      run().then(
        () => undefined,
        (error: unknown) => error,
      );
    // An event outside the payload contract travels alone: the first page holds event 1
    // and sends the reader on to event 2's own page.
    const limits = { maxEvents: 500, maxBytes: 1 << 20 };
    const first = await stream.readWirePage({}, limits);
    expect(first.text).toBe(storedToWire(await stream.readPage({}, limits)));
    expect(fromWireJson(first.text)).toMatchObject({ next: { from: 2, to: 2 } });
    const now = await caught(() => stream.readWirePage({ from: 2, to: 2 }, limits));
    const before = await caught(async () =>
      storedToWire(await stream.readPage({ from: 2, to: 2 }, limits)),
    );
    expect(isCorruptRecordError(now)).toBe(true);
    expect(now).toMatchObject({
      key: `${ref.database ?? 'default'}/BankAccount/${ref.id}/event/2`,
      version: 2,
    });
    expect(errorToJSON(now)).toEqual(errorToJSON(before));
  });
});
