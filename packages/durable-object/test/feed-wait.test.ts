import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import {
  type ErrorJSON,
  isInvalidArgumentError,
  isStorageError,
  type StreamId,
} from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  databaseObjectName,
  type EventStoreObject,
  eventStoreObjectRpc,
  FEED_CHECK_MS,
  type FeedWaitCall,
  feedHolds,
  MAX_FEED_WAIT_MS,
  MAX_WAITS,
  streamObjectName,
  unwrapResult,
} from '../src/index.js';
import { deposit, refusedOnceFull } from './helpers.js';
import type { FlakyFeedObject } from './worker.js';

// Read-your-writes under 'stream' routing is `feedWait` on the database's feed: it answers
// true once the feed holds each stream at the version asked for, false at its timeout. A
// call it cannot answer truthfully (a version that is no version, a timeout that is no
// duration) is refused, never answered true: a caller would read without its own writes.

const feedRpc = (database: string) =>
  eventStoreObjectRpc(env.STORE.get(env.STORE.idFromName(databaseObjectName(database))));

const fresh = async (events = 2) => {
  const database = `wait-${crypto.randomUUID()}`;
  const ref: StreamId = { database, type: 'Account', id: 'a/1' };
  const store = createDurableObjectEventStore(env.STORE, { routing: 'stream', database });
  await store.stream(ref).append(Array.from({ length: events }, (_, i) => deposit(i + 1)));
  // Through the store's own read-your-writes: the feed holds them from here on.
  await store.readLog();
  return { database, ref, store, feed: feedRpc(database) };
};

describe('feedWait (read-your-writes on the feed)', () => {
  it('answers true at or below what the feed holds, false past it at the timeout, true once a delivery brings it', async () => {
    const { ref, store, feed } = await fresh(2);
    const wait = (version: number, timeoutMs: number) =>
      feed.feedWait({ streams: [{ ref, version }], timeoutMs }).then(unwrapResult);
    expect(await wait(0, 0)).toBe(true);
    expect(await wait(2, 0)).toBe(true);
    expect(await wait(3, 0)).toBe(false);
    expect(await wait(3, 50)).toBe(false);
    // Past the head, woken by the delivery of the append that gets there.
    const waiting = wait(4, MAX_FEED_WAIT_MS);
    await store.stream(ref).append([deposit(3), deposit(4)]);
    expect(await waiting).toBe(true);
    expect(await feed.feedWait({ streams: [], timeoutMs: 0 }).then(unwrapResult)).toBe(true);
  });

  it(`holds at most MAX_WAITS (${MAX_WAITS}) of them, apart from the long-polls: the next is refused (STORAGE_FAILURE), the held ones answer once delivered`, async () => {
    const { database, ref, store } = await fresh(2);
    const feed = env.STORE.get(env.STORE.idFromName(databaseObjectName(database)));
    const held = await runInDurableObject(feed, async (object: EventStoreObject) => {
      const waits = Array.from({ length: MAX_WAITS }, () =>
        object.feedWait({ streams: [{ ref, version: 3 }], timeoutMs: MAX_FEED_WAIT_MS }),
      );
      const refused = await refusedOnceFull(() =>
        object.feedWait({ streams: [{ ref, version: 3 }], timeoutMs: 1 }),
      );
      expect(isStorageError(refused)).toBe(true);
      expect((refused as Error).message).toContain(`${MAX_WAITS} waits`);
      // The long-polls have a bound of their own.
      expect(unwrapResult(await object.waitLog({ database, after: 0, timeoutMs: 0 }))).toBe(2);
      return waits;
    });
    await store.stream(ref).append(deposit(3));
    const answers = (await Promise.all(held)).map((result) => unwrapResult(result));
    expect(new Set(answers)).toEqual(new Set([true]));
  });

  it.each([
    ['a version that is not a number', { version: '2' }, 'version'],
    ['NaN', { version: Number.NaN }, 'version'],
    ['no version', {}, 'version'],
    ['a negative version', { version: -1 }, 'version'],
    ['a fraction', { version: 1.5 }, 'version'],
    ['a version past the safe integers', { version: 2 ** 53 }, 'version'],
  ])('refuses %s instead of answering it held', async (_label, fields, field) => {
    const { ref, feed } = await fresh(1);
    const result = await feed.feedWait({
      streams: [{ ref, ...fields }],
      timeoutMs: 0,
    } as unknown as FeedWaitCall);
    expect(result.ok).toBe(false);
    const error = (result as { error: ErrorJSON }).error;
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(String((error as { field?: unknown }).field)).toContain(field);
  });

  it.each([
    ['a negative timeout', -1],
    ['NaN', Number.NaN],
    ['a string', '10'],
    ['more than MAX_FEED_WAIT_MS', MAX_FEED_WAIT_MS + 1],
  ])('refuses %s as the timeout', async (_label, timeoutMs) => {
    const { ref, feed } = await fresh(1);
    const result = await feed.feedWait({
      streams: [{ ref, version: 1 }],
      timeoutMs,
    } as unknown as FeedWaitCall);
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it("refuses a stream of another database, and a stream object asked for its database's wait", async () => {
    const { ref, feed, database } = await fresh(1);
    const other = { ...ref, database: `${database}-other` };
    expect(
      await feed.feedWait({ streams: [{ ref: other, version: 1 }], timeoutMs: 0 }),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    const streamObject = eventStoreObjectRpc(
      env.STORE.get(env.STORE.idFromName(streamObjectName(ref))),
    );
    const result = await streamObject.feedWait({ streams: [{ ref, version: 1 }], timeoutMs: 0 });
    expect(result.ok).toBe(false);
    expect(() => unwrapResult(result)).toThrow();
    try {
      unwrapResult(result);
    } catch (error) {
      expect(isInvalidArgumentError(error)).toBe(true);
    }
  });
});

describe('feedHolds (read-your-writes for appends made through another store)', () => {
  it('is true once the feed holds each stream at its version, false at its timeout before that', async () => {
    const { database, ref, store } = await fresh(2);
    const named = { ref: { type: ref.type, id: ref.id }, version: 3 };
    expect(await feedHolds(env.STORE, database, [{ ...named, version: 2 }], 0)).toBe(true);
    expect(await feedHolds(env.STORE, database, [named], 50)).toBe(false);
    // Another store's append: the wait started before it answers once the feed holds it.
    const waiting = feedHolds(env.STORE, database, [named]);
    await createDurableObjectEventStore(env.STORE, { routing: 'stream', database })
      .stream(ref)
      .append(deposit(3));
    expect(await waiting).toBe(true);
    expect((await store.readLog()).events.map((e) => e.version)).toEqual([1, 2, 3]);
  });

  it('lets go of a version its stream does not have after FEED_CHECK_MS, instead of waiting out its timeout', async () => {
    // A client that remembers an append the server no longer has (its data was reset), or
    // names one it never made: its reads answer without it, not 503 after 10 s.
    const { database, ref } = await fresh(2);
    const named = { ref: { type: ref.type, id: ref.id }, version: 5 };
    const never = { ref: { type: 'Account', id: 'never appended' }, version: 1 };
    const started = Date.now();
    expect(await feedHolds(env.STORE, database, [named, never])).toBe(true);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(FEED_CHECK_MS);
    expect(took).toBeLessThan(MAX_FEED_WAIT_MS / 2);
  });

  it('waits out its timeout for a version its stream has and the feed does not, and holds it once delivered', async () => {
    const database = `wait-${crypto.randomUUID()}`;
    const ref: StreamId = { database, type: 'Account', id: 'held back' };
    const feed = env.FLAKY.get(env.FLAKY.idFromName(databaseObjectName(database)));
    const setDown = (down: boolean) =>
      runInDurableObject(feed, (object: FlakyFeedObject) => {
        object.down = down;
      });
    await setDown(true);
    await createDurableObjectEventStore(env.FLAKY, { routing: 'stream', database })
      .stream(ref)
      .append([deposit(1), deposit(2)]);
    const named = [{ ref: { type: ref.type, id: ref.id }, version: 2 }];
    const started = Date.now();
    expect(await feedHolds(env.FLAKY, database, named, FEED_CHECK_MS + 500)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(FEED_CHECK_MS + 500);
    // Delivered once the feed is back (the stream object's next delivery: asked for here).
    await setDown(false);
    const waiting = feedHolds(env.FLAKY, database, named);
    await eventStoreObjectRpc(env.FLAKY.get(env.FLAKY.idFromName(streamObjectName(ref)))).feedFlush(
      {
        ref,
      },
    );
    expect(await waiting).toBe(true);
  });
});
