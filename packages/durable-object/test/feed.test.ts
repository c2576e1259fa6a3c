import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { RecordedEvent, StreamId } from '@eventkv/core';
import { seededRandom } from '@eventkv/core/testing';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  databaseObjectName,
  eventStoreObjectRpc,
  streamObjectName,
  unwrapResult,
} from '../src/index.js';
import { type BankEvent, deposit } from './helpers.js';
import type { FlakyFeedObject } from './worker.js';

// Under 'stream' routing each stream object delivers its events to the database's object
// (the feed). These tests drive the delivery through its faults: a feed that is down, a
// stream object restarted in the middle, duplicate deliveries, alarms that fire twice.

const storeOf = (database: string) =>
  createDurableObjectEventStore<BankEvent>(env.FLAKY, { routing: 'stream', database });
const stub = (name: string) => env.FLAKY.get(env.FLAKY.idFromName(name));
const feedOf = (database: string) => stub(databaseObjectName(database));
const setDown = (database: string, down: boolean) =>
  runInDurableObject(feedOf(database), (feed: FlakyFeedObject) => {
    feed.down = down;
  });
/** What the object's alarm does, run now (as a real alarm would, possibly twice at once). */
const fireAlarm = (ref: StreamId) =>
  runInDurableObject(stub(streamObjectName(ref)), (object: FlakyFeedObject) => object.alarm());
const plain = (events: readonly RecordedEvent[]) =>
  events.map(({ position: _position, ...event }) => event);

/** The whole log of the feed, page by page. */
const wholeLog = async (database: string) => {
  const rpc = eventStoreObjectRpc(feedOf(database));
  const events: RecordedEvent[] = [];
  for (let after = 0; ; ) {
    const page = unwrapResult(await rpc.readLog({ options: { database, after, limit: 1000 } }));
    events.push(...(page.events as RecordedEvent[]));
    if (page.position === after) return events;
    after = page.position;
  }
};

/** The feed ends equal to the union of the streams: each event once, each stream in order. */
const expectFeedIsUnion = async (database: string, refs: readonly StreamId[]) => {
  const store = storeOf(database);
  const log = await wholeLog(database);
  expect(log.map((e) => e.position)).toEqual(log.map((_, i) => i + 1));
  for (const ref of refs) {
    const stream = await store.stream(ref).read();
    const fed = log.filter((e) => e.metadata.aggregateId === ref.id);
    expect(plain(fed), `${ref.id} in the feed`).toEqual(stream);
  }
  expect(log).toHaveLength(
    (await Promise.all(refs.map((ref) => store.stream(ref).version()))).reduce((a, b) => a + b, 0),
  );
};

describe("the database feed ('stream' routing)", () => {
  it('serves readLog and queries of every stream, reading its own writes', async () => {
    const database = `feed-${crypto.randomUUID()}`;
    const store = storeOf(database);
    const refs = [0, 1, 2].map((i): StreamId => ({ database, type: 'Account', id: `a${i}` }));
    for (const [i, ref] of refs.entries()) {
      await store.stream(ref).append([deposit(i * 10 + 1), deposit(i * 10 + 2)]);
    }
    // No wait by the caller: the read waits until the feed holds this store's appends.
    const log = await store.readLog();
    expect(log.events).toHaveLength(6);
    expect((await store.query('aggregateType', 'Account')).events).toHaveLength(6);
    await expectFeedIsUnion(database, refs);
  });

  it('a feed that is down holds nothing back: appends succeed, the alarm delivers later', async () => {
    const database = `feed-${crypto.randomUUID()}`;
    const store = storeOf(database);
    const ref: StreamId = { database, type: 'Account', id: 'down' };
    await setDown(database, true);
    await store.stream(ref).append([deposit(1), deposit(2)]);
    await store.stream(ref).append(deposit(3));
    await fireAlarm(ref); // fails again, and re-arms
    expect(await wholeLog(database)).toEqual([]);
    await setDown(database, false);
    await fireAlarm(ref);
    await expectFeedIsUnion(database, [ref]);
  });

  it('takes duplicate and overlapping deliveries once, and answers a gap with what it holds', async () => {
    const database = `feed-${crypto.randomUUID()}`;
    const store = storeOf(database);
    const ref: StreamId = { database, type: 'Account', id: 'dup' };
    await setDown(database, true);
    await store.stream(ref).append([deposit(1), deposit(2), deposit(3), deposit(4)]);
    const events = await store.stream(ref).read();
    await setDown(database, false);
    const rpc = eventStoreObjectRpc(feedOf(database));
    const deliver = async (slice: RecordedEvent[]) =>
      unwrapResult(await rpc.feedDeliver({ ref, events: slice })).version;
    expect(await deliver(events.slice(2))).toBe(0); // a gap: it holds nothing yet
    expect(await deliver(events.slice(0, 2))).toBe(2);
    expect(await deliver(events.slice(0, 2))).toBe(2); // a duplicate
    expect(await deliver(events.slice(1, 4))).toBe(4); // an overlap
    expect(await deliver(events.slice(0, 4))).toBe(4);
    await fireAlarm(ref); // its own delivery, late: nothing new
    await expectFeedIsUnion(database, [ref]);
  });

  it('stores the acknowledged version from its alarm, not with each delivery; after a restart it delivers again from there, and the feed takes each event once', async () => {
    const database = `feed-${crypto.randomUUID()}`;
    const ref: StreamId = { database, type: 'Account', id: 'stored' };
    const object = () => stub(streamObjectName(ref));
    // Appends inside the stream object, its alarm removed at once: the test fires it.
    const append = (...amounts: number[]) =>
      runInDurableObject(object(), async (stream: FlakyFeedObject, state) => {
        unwrapResult(await stream.append({ ref, events: amounts.map((n) => deposit(n)) }));
        await state.storage.deleteAlarm();
      });
    const fedUpTo = async (version: number) =>
      expect(
        unwrapResult(
          await eventStoreObjectRpc(feedOf(database)).feedWait({
            streams: [{ ref, version }],
            timeoutMs: 10_000,
          }),
        ),
      ).toBe(true);
    const stored = () =>
      runInDurableObject(object(), (_stream, state) => state.storage.kv.get('#feed/delivered'));

    await append(1, 2);
    await fedUpTo(2);
    expect(await stored()).toBeUndefined();
    await fireAlarm(ref);
    expect(await stored()).toBe(2);
    await append(3);
    await fedUpTo(3);
    expect(await stored()).toBe(2);
    // Restarted: the version stored (2) lags the feed (3), so event 3 goes again.
    await runInDurableObject(object(), (_stream, state) => state.abort('restart')).catch(
      () => undefined,
    );
    await append(4);
    await fedUpTo(4);
    await fireAlarm(ref);
    expect(await stored()).toBe(4);
    await expectFeedIsUnion(database, [ref]);
  });

  it('over random runs of appends (one stream, or all at once), outages, restarts, duplicates and double alarms, the feed ends equal to the union of the streams', async () => {
    for (let run = 0; run < 5; run++) {
      const random = seededRandom(1000 + run);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
      const database = `feed-model-${run}-${crypto.randomUUID()}`;
      const store = storeOf(database);
      const refs = [0, 1, 2].map((i): StreamId => ({ database, type: 'Account', id: `s${i}` }));
      let amount = 0;
      for (let step = 0; step < 14; step++) {
        const ref = pick(refs);
        const action = pick([
          'append',
          'append',
          'append',
          'down',
          'up',
          'restart',
          'duplicate',
          'alarms',
          'burst',
        ]);
        switch (action) {
          case 'append': {
            const n = 1 + Math.floor(random() * 3);
            await store.stream(ref).append(Array.from({ length: n }, () => deposit(++amount)));
            break;
          }
          case 'down':
          case 'up':
            await setDown(database, action === 'down');
            break;
          case 'restart': {
            // An append starts a delivery; the object is reset at once, in the middle of it.
            await store.stream(ref).append(deposit(++amount));
            await runInDurableObject(stub(streamObjectName(ref)), (_object, state) =>
              state.abort('restart in the middle of a delivery'),
            ).catch(() => undefined); // the call that aborts fails
            break;
          }
          case 'duplicate': {
            const events = await store.stream(ref).read();
            if (events.length === 0) break;
            const from = Math.floor(random() * events.length);
            await eventStoreObjectRpc(feedOf(database))
              .feedDeliver({ ref, events: events.slice(from) })
              .catch(() => undefined); // the feed may be down
            break;
          }
          case 'alarms':
            await Promise.allSettled([fireAlarm(ref), fireAlarm(ref)]);
            break;
          case 'burst':
            // Appends to every stream at once: their deliveries reach the feed together
            // and are applied in batches.
            await Promise.all(refs.map((each) => store.stream(each).append(deposit(++amount))));
            break;
        }
      }
      await setDown(database, false);
      for (const ref of refs) await fireAlarm(ref);
      await expectFeedIsUnion(database, refs);
    }
  }, 120_000);
});
