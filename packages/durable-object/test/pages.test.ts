import { env } from 'cloudflare:workers';
import {
  createEventStore,
  createMemoryKv,
  type EventStream,
  isInvalidArgumentError,
  type ReadOptions,
  type RecordedEvent,
} from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  eventStoreObjectRpc,
  streamObjectName,
  unwrapResult,
} from '../src/index.js';
import type { LoadPage, ReadPage } from '../src/object/calls.js';
import {
  approximateSize,
  loadPage,
  READ_PAGE_LIMITS,
  readPage,
} from '../src/object/event-store-object.js';
import { failure, uniqueRef } from './helpers.js';

type Sized = { type: 'Sized'; data: { n: number; pad: string } };
const sized = (n: number, bytes = 0) => ({
  type: 'Sized' as const,
  data: { n, pad: 'x'.repeat(bytes) },
});

/** A local stream of `count` events, `bytes` of padding each, and the reads it served. */
const localStream = async (count: number, bytes = 0) => {
  const stream = createEventStore<Sized>({ kv: createMemoryKv() }).stream({ type: 'S', id: '1' });
  for (let i = 0; i < count; i += 500) {
    await stream.append(
      Array.from({ length: Math.min(500, count - i) }, (_, j) => sized(i + j + 1, bytes)),
    );
  }
  const reads: ReadOptions[] = [];
  const counted: Pick<EventStream<Sized>, 'read' | 'version' | 'latestSnapshot'> & {
    reads: ReadOptions[];
    stream: EventStream<Sized>;
  } = {
    reads,
    stream,
    read: (options) => {
      reads.push(options ?? {});
      return stream.read(options);
    },
    version: () => stream.version(),
    latestSnapshot: (() => stream.latestSnapshot()) as EventStream<Sized>['latestSnapshot'],
  };
  return counted;
};

/** Reads every page the way the caller side does, and checks each page's bounds. */
const allPages = async (
  source: Parameters<typeof readPage<Sized>>[0],
  options: ReadOptions,
  limits: { maxEvents: number; maxBytes: number },
) => {
  const pages: ReadPage<Sized>[] = [];
  let page = await readPage(source, options, limits);
  pages.push(page);
  while (page.next) {
    page = await readPage(source, page.next, limits);
    pages.push(page);
  }
  for (const p of pages) {
    expect(p.events.length).toBeLessThanOrEqual(limits.maxEvents);
    const bytes = p.events.reduce((sum, e) => sum + approximateSize(e), 0);
    if (p.events.length > 1) expect(bytes).toBeLessThanOrEqual(limits.maxBytes);
  }
  return { pages, events: pages.flatMap((p) => p.events) };
};

const versions = (events: readonly RecordedEvent[]) => events.map((e) => e.version);
const range = (from: number, to: number) =>
  Array.from({ length: Math.abs(to - from) + 1 }, (_, i) => (from <= to ? from + i : from - i));

describe('readPage (what the object answers per call)', () => {
  it('cuts a range by count, pins its end on the first page, and the pages make the range', async () => {
    const source = await localStream(23);
    const limits = { maxEvents: 5, maxBytes: 1 << 20 };
    const first = await readPage(source, {}, limits);
    expect(versions(first.events)).toEqual([1, 2, 3, 4, 5]);
    expect(first.next).toEqual({ from: 6, to: 23 });
    // Events appended after the first page are not part of the range it began.
    await source.stream.append([sized(24), sized(25)]);
    const { events, pages } = await allPages(source, first.next!, limits);
    expect(versions([...first.events, ...events])).toEqual(range(1, 23));
    expect(pages.at(-1)!.next).toBeUndefined();
  });

  it('cuts by bytes, always keeping at least one event (so a huge one still reads)', async () => {
    const source = await localStream(10, 1000);
    const one = approximateSize((await source.stream.read({ limit: 1 }))[0]);
    const limits = { maxEvents: 100, maxBytes: one * 3 + 10 };
    const { pages, events } = await allPages(source, {}, limits);
    expect(pages.map((p) => p.events.length)).toEqual([3, 3, 3, 1]);
    expect(versions(events)).toEqual(range(1, 10));
    const tiny = await allPages(source, {}, { maxEvents: 100, maxBytes: 1 });
    expect(tiny.pages).toHaveLength(10);
    expect(versions(tiny.events)).toEqual(range(1, 10));
  });

  it('sizes later chunks from the heaviest event so far, and a page may take several chunks', async () => {
    const source = await localStream(300);
    const limits = { maxEvents: 250, maxBytes: 1 << 20 };
    const page = await readPage(source, {}, limits);
    expect(versions(page.events)).toEqual(range(1, 250));
    // The first chunk is sized for the largest events the defaults allow (4 of 256 KiB in 1 MiB).
    expect(source.reads[0]).toEqual({ limit: 4 });
    expect(source.reads.length).toBe(2);
    expect(source.reads[1]).toEqual({ from: 5, limit: 246 });
  });

  it('backwards, with from, to and limit, counting the limit across pages', async () => {
    const source = await localStream(40);
    const limits = { maxEvents: 7, maxBytes: 1 << 20 };
    const back = await allPages(source, { direction: 'backward', from: 5, limit: 30 }, limits);
    expect(versions(back.events)).toEqual(range(40, 11));
    expect(back.pages[0]!.next).toEqual({ from: 5, to: 33, direction: 'backward', limit: 23 });
    const slice = await allPages(source, { from: 3, to: 30, limit: 20 }, limits);
    expect(versions(slice.events)).toEqual(range(3, 22));
    const toTheEnd = await allPages(source, { from: 30, to: 90 }, limits);
    expect(versions(toTheEnd.events)).toEqual(range(30, 40));
    const exact = await allPages(source, { from: 1, to: 14 }, limits);
    expect(exact.pages).toHaveLength(2);
    expect(exact.pages[1]!.next).toBeUndefined();
    const backToStart = await allPages(source, { direction: 'backward', to: 7 }, limits);
    expect(versions(backToStart.events)).toEqual(range(7, 1));
    expect(backToStart.pages).toHaveLength(1);
  });

  it('ends without a next page when the range ends exactly at a page boundary', async () => {
    const source = await localStream(10);
    const page = await readPage(source, {}, { maxEvents: 10, maxBytes: 1 << 20 });
    expect(versions(page.events)).toEqual(range(1, 10));
    expect(page.next).toBeUndefined();
    const limited = await readPage(source, { limit: 5 }, { maxEvents: 5, maxBytes: 1 << 20 });
    expect(limited.next).toBeUndefined();
  });

  it('an empty stream or range is one empty page', async () => {
    const source = await localStream(0);
    expect(await readPage(source, {})).toEqual({ events: [] });
    const some = await localStream(3);
    expect(await readPage(some, { from: 9 })).toEqual({ events: [] });
    const whole = await readPage(some, undefined, { maxEvents: 2, maxBytes: 1 << 20 });
    expect(versions(whole.events)).toEqual([1, 2]);
    expect(whole.next).toEqual({ from: 3, to: 3 });
  });

  it('hands options it cannot page to the store, which refuses them as a local read does', async () => {
    const source = await localStream(3);
    for (const [options, field] of [
      [{ limit: 0 }, 'options.limit'],
      [{ limit: 1.5 }, 'options.limit'],
      [{ from: 0 }, 'options.from'],
      [{ from: 3, to: 2 }, 'options.from'],
      [{ direction: 'sideways' }, 'options.direction'],
      [{ form: 1 }, 'options.form'],
      [null, 'options'],
    ] as const) {
      const error = await failure(readPage(source, options as ReadOptions));
      expect(isInvalidArgumentError(error), JSON.stringify(options)).toBe(true);
      expect(error).toMatchObject({ field });
    }
  });
});

describe('loadPage', () => {
  it('the latest snapshot, the version, and a page of the events after it, the state counted', async () => {
    const source = await localStream(30, 100);
    await source.stream.saveSnapshot(10, { pad: 'y'.repeat(1000) });
    const one = approximateSize((await source.stream.read({ limit: 1 }))[0]);
    const stateSize = approximateSize({ pad: 'y'.repeat(1000) });
    const limits = { maxEvents: 100, maxBytes: stateSize + one * 4 };
    const page: LoadPage<Sized, unknown> = await loadPage(source, limits);
    expect(page.snapshot?.version).toBe(10);
    expect(page.version).toBe(30);
    expect(versions(page.events)).toEqual(range(11, 14));
    expect(page.next).toEqual({ from: 15, to: 30 });
    const whole = await loadPage(source);
    expect(versions(whole.events)).toEqual(range(11, 30));
    expect(whole.next).toBeUndefined();
    expect(whole.version).toBe(30);
  });

  it('versions without events after the snapshot, and of an empty stream', async () => {
    const source = await localStream(5);
    expect(await loadPage(source)).toMatchObject({ snapshot: undefined, version: 5 });
    await source.stream.saveSnapshot(5, 1);
    expect(await loadPage(source)).toMatchObject({ events: [], version: 5 });
    expect(await loadPage(await localStream(0))).toEqual({
      snapshot: undefined,
      events: [],
      version: 0,
    });
  });
});

describe('approximateSize', () => {
  it("counts in payloadSize's units, for any value", () => {
    expect(approximateSize('abc')).toBe(5);
    expect(approximateSize('ab\u0100')).toBe(8);
    expect(approximateSize(1)).toBe(9);
    expect(approximateSize(2n ** 64n)).toBe(9 + 9);
    expect(approximateSize(null)).toBe(1);
    expect(approximateSize(true)).toBe(1);
    expect(approximateSize(new Uint8Array(100))).toBe(101);
    expect(approximateSize(new ArrayBuffer(10))).toBe(11);
    expect(approximateSize(new Date(0))).toBe(9);
    expect(approximateSize(/ab/g)).toBe(1 + 4 + 3);
    expect(approximateSize(new Map([['a', 1]]))).toBe(1 + 3 + 9);
    expect(approximateSize(new Set(['a']))).toBe(1 + 3);
    expect(approximateSize([1, 2])).toBe(1 + 18);
    expect(approximateSize({ a: 1 })).toBe(1 + 3 + 9);
    class Money {
      constructor(readonly cents: number) {}
    }
    expect(approximateSize(new Money(5))).toBe(1 + 7 + 9);
  });

  it('counts a shared value at each place, and a value inside itself once, without hanging', () => {
    const shared = { s: 'x'.repeat(100) };
    expect(approximateSize([shared, shared])).toBe(1 + 2 * approximateSize(shared));
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    expect(approximateSize(cycle)).toBe(1 + 3 + 9 + 6 + 1);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 40; i++) deep = { a: deep, b: deep };
    expect(approximateSize(deep)).toBeGreaterThan(2 ** 40);
  });
});

describe('the object answers pages; the caller reads whole ranges (default limits)', () => {
  const store = createDurableObjectEventStore<Sized>(env.STORE);
  const rpcOf = (ref: ReturnType<typeof uniqueRef>) =>
    eventStoreObjectRpc(env.STORE.get(env.STORE.idFromName(streamObjectName(ref))));

  it('more events than one page holds: 500 a page, pinned, and read() returns them all', async () => {
    const ref = uniqueRef();
    const stream = store.stream(ref);
    for (let i = 0; i < 1200; i += 400) {
      await stream.append(Array.from({ length: 400 }, (_, j) => sized(i + j + 1)));
    }
    const rpc = rpcOf(ref);
    const first = unwrapResult(await rpc.read({ ref })) as unknown as ReadPage;
    expect(first.events).toHaveLength(READ_PAGE_LIMITS.maxEvents);
    expect(first.next).toEqual({ from: 501, to: 1200 });
    expect(versions(await stream.read())).toEqual(range(1, 1200));
    expect(versions(await stream.read({ direction: 'backward', limit: 700 }))).toEqual(
      range(1200, 501),
    );
    expect(versions(await stream.read({ from: 450, to: 1050 }))).toEqual(range(450, 1050));
    await stream.saveSnapshot(100, { total: 100 });
    const loaded = await stream.load();
    expect(loaded.snapshot?.version).toBe(100);
    expect(loaded.version).toBe(1200);
    expect(versions(loaded.events)).toEqual(range(101, 1200));
    const firstLoad = unwrapResult(await rpc.load({ ref })) as unknown as LoadPage;
    expect(firstLoad.events).toHaveLength(500);
    expect(firstLoad.next).toEqual({ from: 601, to: 1200 });
  });

  it('more than one Workers RPC result can carry (32 MiB): pages of at most 8 MiB', async () => {
    const ref = uniqueRef();
    const stream = store.stream(ref);
    const bytes = 200 * 1024;
    const count = 170; // about 34 MiB of payload
    for (let i = 0; i < count; i += 4) {
      await stream.append(
        Array.from({ length: Math.min(4, count - i) }, (_, j) => sized(i + j + 1, bytes)),
      );
    }
    const first = unwrapResult(await rpcOf(ref).read({ ref })) as unknown as ReadPage<Sized>;
    const pageBytes = first.events.reduce((sum, e) => sum + approximateSize(e), 0);
    expect(pageBytes).toBeLessThanOrEqual(READ_PAGE_LIMITS.maxBytes);
    expect(first.events.length).toBe(
      Math.floor(READ_PAGE_LIMITS.maxBytes / approximateSize(first.events[0])),
    );
    expect(first.next).toMatchObject({ from: first.events.length + 1, to: count });
    const all = await stream.read();
    expect(versions(all)).toEqual(range(1, count));
    expect(all.every((e) => e.data.pad.length === bytes)).toBe(true);
    const loaded = await stream.load();
    expect(loaded.events).toHaveLength(count);
  });
});
