import { env } from 'cloudflare:workers';
import { createHttpEventStore } from '@eventkv/client';
import {
  createEventStore,
  createMemoryKv,
  createSuperjsonCodec,
  isInvalidArgumentError,
  type ReadOptions,
  type RecordedEvent,
} from '@eventkv/core';
import { createDurableObjectEventStore } from '@eventkv/durable-object';
import { describe, expect, it } from 'vitest';
import { EVENTS_PAGE_LIMITS, loadEventsPage, readEventsPage } from '../src/routes/events';
import { api, freshDatabase, ORIGIN, send, tokenFor } from './helpers';

type Padded = { type: 'Padded'; data: { n: number; pad: string } };
const padded = (n: number, bytes = 0): Padded => ({
  type: 'Padded',
  data: { n, pad: 'x'.repeat(bytes) },
});

const versions = (events: readonly RecordedEvent[]) => events.map((e) => e.version);
const range = (from: number, to: number) =>
  Array.from({ length: Math.abs(to - from) + 1 }, (_, i) => (from <= to ? from + i : from - i));

const memoryStream = async (count: number, bytes = 0) => {
  const stream = createEventStore<Padded>({ kv: createMemoryKv() }).stream({ type: 'P', id: '1' });
  for (let i = 0; i < count; i += 500) {
    await stream.append(
      Array.from({ length: Math.min(500, count - i) }, (_, j) => padded(i + j + 1, bytes)),
    );
  }
  return stream;
};

/** Every page of a read, as a client follows them. */
const pages = async (
  stream: Parameters<typeof readEventsPage>[0],
  options: ReadOptions,
  limits: { maxEvents: number; maxBytes: number },
) => {
  const all = [await readEventsPage(stream, options, limits)];
  while (all.at(-1)!.next) all.push(await readEventsPage(stream, all.at(-1)!.next!, limits));
  return { pages: all, events: all.flatMap((p) => p.events) };
};

describe('readEventsPage and loadEventsPage (one answer of GET .../events)', () => {
  it('cuts by count and bytes, pins the end on the first page, and the pages make the range', async () => {
    const stream = await memoryStream(25, 100);
    const byCount = await pages(stream, {}, { maxEvents: 10, maxBytes: 1 << 20 });
    expect(byCount.pages.map((p) => p.events.length)).toEqual([10, 10, 5]);
    expect(byCount.pages[0]!.next).toEqual({ from: 11, to: 25 });
    expect(versions(byCount.events)).toEqual(range(1, 25));

    const first = await readEventsPage(stream, {}, { maxEvents: 10, maxBytes: 1 << 20 });
    await stream.append(padded(26));
    const rest = await pages(stream, first.next!, { maxEvents: 10, maxBytes: 1 << 20 });
    expect(versions([...first.events, ...rest.events])).toEqual(range(1, 25));

    const byBytes = await pages(
      stream,
      { direction: 'backward', limit: 20 },
      {
        maxEvents: 100,
        maxBytes: 700,
      },
    );
    expect(byBytes.pages.length).toBeGreaterThan(3);
    expect(versions(byBytes.events)).toEqual(range(26, 7));
    expect(byBytes.pages[0]!.next).toMatchObject({ direction: 'backward', from: 1 });
  });

  it('an event outside the payload contract (a custom codec) travels alone in its page', async () => {
    class Money {
      constructor(readonly cents: number) {}
    }
    const stream = createEventStore({
      kv: createMemoryKv(),
      codec: createSuperjsonCodec({ classes: { Money } }),
    }).stream({ type: 'P', id: '1' });
    await stream.append([1, 2, 3].map((n) => ({ type: 'Paid', data: { money: new Money(n) } })));
    const all = await pages(stream, {}, EVENTS_PAGE_LIMITS);
    expect(all.pages.map((p) => p.events.length)).toEqual([1, 1, 1]);
  });

  it('passes options it cannot page to the store, which refuses them', async () => {
    const stream = await memoryStream(3);
    const error = await readEventsPage(stream, { limit: 0 }).catch((e) => e);
    expect(isInvalidArgumentError(error)).toBe(true);
    expect(error).toMatchObject({ field: 'options.limit' });
  });

  it('load: the snapshot, the version, and a first page of the events after it', async () => {
    const stream = await memoryStream(30);
    expect(await loadEventsPage(stream)).toMatchObject({ snapshot: undefined, version: 30 });
    await stream.saveSnapshot(12, { total: 12 });
    const first = await loadEventsPage(stream, { maxEvents: 5, maxBytes: 1 << 20 });
    expect(first.snapshot?.version).toBe(12);
    expect(first.version).toBe(30);
    expect(versions(first.events)).toEqual(range(13, 17));
    expect(first.next).toEqual({ from: 18, to: 30 });
    await stream.saveSnapshot(30, { total: 30 });
    expect(await loadEventsPage(stream)).toMatchObject({ events: [], version: 30 });
    const empty = await memoryStream(0);
    expect(await loadEventsPage(empty)).toEqual({ snapshot: undefined, events: [], version: 0 });
  });
});

describe('GET .../events through the Worker (default pages: 500 events, 4 MiB)', () => {
  const seed = async (db: string, id: string, count: number, bytes = 0, perAppend = 500) => {
    // Written straight into the objects the Worker reads ('stream' routing).
    const stream = createDurableObjectEventStore<Padded>(env.EVENT_STORE, { database: db }).stream({
      type: 'Account',
      id,
    });
    for (let i = 0; i < count; i += perAppend) {
      await stream.append(
        Array.from({ length: Math.min(perAppend, count - i) }, (_, j) => padded(i + j + 1, bytes)),
      );
    }
    return stream;
  };

  it('answers a page with next, and the client reads the whole range', async () => {
    const db = freshDatabase();
    const stream = await seed(db, 'many', 1200);
    const first = await api(db, 'GET', '/streams/Account/many/events');
    const body = first.body as { events: RecordedEvent[]; next?: ReadOptions };
    expect(body.events).toHaveLength(EVENTS_PAGE_LIMITS.maxEvents);
    expect(body.next).toEqual({ from: 501, to: 1200 });
    const second = await api(db, 'GET', '/streams/Account/many/events?from=501&to=1200');
    expect((second.body as { next?: ReadOptions }).next).toEqual({ from: 1001, to: 1200 });

    const client = createHttpEventStore<Padded>(ORIGIN, {
      token: await tokenFor(db),
      fetch: (request) => send(request),
    });
    const remote = client.stream({ type: 'Account', id: 'many' });
    expect(versions(await remote.read())).toEqual(range(1, 1200));
    expect(versions(await remote.read({ direction: 'backward', limit: 777 }))).toEqual(
      range(1200, 424),
    );
    await stream.saveSnapshot(200, { n: 200 });
    const loaded = await remote.load();
    expect(loaded.snapshot?.version).toBe(200);
    expect(loaded.version).toBe(1200);
    expect(versions(loaded.events)).toEqual(range(201, 1200));
    const firstLoad = await api(db, 'GET', '/streams/Account/many/events?snapshot=true');
    expect(firstLoad.headers.get('ETag')).toBe('"1200"');
    expect((firstLoad.body as { next?: ReadOptions }).next).toEqual({ from: 701, to: 1200 });
  });

  it('pages by bytes: events of 200 KiB, at most 4 MiB an answer', async () => {
    const db = freshDatabase();
    const bytes = 200 * 1024;
    await seed(db, 'big', 30, bytes, 4);
    const first = await api(db, 'GET', '/streams/Account/big/events');
    const body = first.body as { events: RecordedEvent<Padded>[]; next?: ReadOptions };
    expect(body.events.length).toBe(20);
    expect(body.next).toEqual({ from: 21, to: 30 });
    const client = createHttpEventStore<Padded>(ORIGIN, {
      token: await tokenFor(db),
      fetch: (request) => send(request),
    });
    const all = await client.stream({ type: 'Account', id: 'big' }).read();
    expect(versions(all)).toEqual(range(1, 30));
    expect(all.every((e) => e.data.pad.length === bytes)).toBe(true);
  });
});
