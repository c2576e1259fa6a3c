import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { isInvalidArgumentError, isStorageError } from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  databaseObjectName,
  type EventStoreObject,
  eventStoreObjectRpc,
  MAX_WAIT_MS,
  MAX_WAITS,
  streamObjectName,
  unwrapResult,
  type WaitLogCall,
  type WaitStreamCall,
} from '../src/index.js';
import { deposit, failure, refusedOnceFull, uniqueRef } from './helpers.js';

const objectNamed = (name: string) => env.STORE.get(env.STORE.idFromName(name));
const waitsOf = (name: string) => eventStoreObjectRpc(objectNamed(name));
const waitStream = (name: string, call: WaitStreamCall) =>
  waitsOf(name)
    .waitStream(call)
    .then((result) => unwrapResult(result));
const waitLog = (name: string, call: WaitLogCall) =>
  waitsOf(name)
    .waitLog(call)
    .then((result) => unwrapResult(result));

/** Settles `promise` into a flag the test can look at without waiting on it. */
const track = <T>(promise: Promise<T>) => {
  const state: { done: boolean; value?: T } = { done: false };
  void promise.then((value) => {
    state.done = true;
    state.value = value;
  });
  return state;
};

describe('long-poll waits on the object (waitStream, waitLog)', () => {
  it('waitStream answers at once when the stream is past after, else at the next append', async () => {
    const ref = { ...uniqueRef(), database: 'default' };
    const name = streamObjectName(ref);
    const store = createDurableObjectEventStore(env.STORE);
    await store.stream(ref).append([deposit(1), deposit(2)]);
    expect(await waitStream(name, { ref, after: 1, timeoutMs: MAX_WAIT_MS })).toBe(2);
    const waiting = track(waitStream(name, { ref, after: 2, timeoutMs: MAX_WAIT_MS }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(waiting.done).toBe(false);
    await store.stream(ref).append(deposit(3));
    await expect.poll(() => waiting.done, { timeout: 10_000 }).toBe(true);
    expect(waiting.value).toBe(3);
  });

  it('answers the head when its timeout passes with nothing new', async () => {
    const ref = { ...uniqueRef(), database: 'default' };
    expect(await waitStream(streamObjectName(ref), { ref, after: 0, timeoutMs: 20 })).toBe(0);
  });

  it("waitLog follows the database's log: under 'stream' routing the feed's, woken by deliveries", async () => {
    const database = `waits-${crypto.randomUUID()}`;
    const store = createDurableObjectEventStore(env.STORE, { database });
    const feed = databaseObjectName(database);
    // timeoutMs 0: the log's position now.
    expect(await waitLog(feed, { database, after: 0, timeoutMs: 0 })).toBe(0);
    const waiting = track(waitLog(feed, { database, after: 0, timeoutMs: MAX_WAIT_MS }));
    await store.stream({ type: 'BankAccount', id: 'a' }).append([deposit(1), deposit(2)]);
    await expect.poll(() => waiting.done, { timeout: 10_000 }).toBe(true);
    expect(waiting.value).toBe(2);
  });

  it('refuses bad input with INVALID_ARGUMENT, and a log wait in a stream object', async () => {
    const ref = { ...uniqueRef(), database: 'default' };
    const name = streamObjectName(ref);
    const bad: readonly [Partial<WaitStreamCall>, string][] = [
      [{ after: -1, timeoutMs: 0 }, 'after'],
      [{ after: 1.5, timeoutMs: 0 }, 'after'],
      [{ timeoutMs: 0 }, 'after'],
      [{ after: 0, timeoutMs: MAX_WAIT_MS + 1 }, 'timeoutMs'],
      [{ after: 0, timeoutMs: -5 }, 'timeoutMs'],
      [{ after: 0 }, 'timeoutMs'],
      // What an RPC caller may send that no typed caller would.
      [{ after: '1' as never, timeoutMs: 0 }, 'after'],
      [{ after: Number.NaN, timeoutMs: 0 }, 'after'],
      [{ after: Number.POSITIVE_INFINITY, timeoutMs: 0 }, 'after'],
      [{ after: 2 ** 53, timeoutMs: 0 }, 'after'],
      [{ after: 0, timeoutMs: 1.5 }, 'timeoutMs'],
      [{ after: 0, timeoutMs: '100' as never }, 'timeoutMs'],
      [{ after: 0, timeoutMs: Number.POSITIVE_INFINITY }, 'timeoutMs'],
    ];
    for (const [call, field] of bad) {
      const error = await failure(waitStream(name, { ref, ...call } as WaitStreamCall));
      expect(isInvalidArgumentError(error), JSON.stringify(call)).toBe(true);
      expect((error as { field: string }).field).toBe(field);
    }
    const misrouted = await failure(waitLog(name, { after: 0, timeoutMs: 0 }));
    expect(isInvalidArgumentError(misrouted)).toBe(true);
    expect((misrouted as { field: string }).field).toBe('routing');
  });

  it(`holds at most MAX_WAITS (${MAX_WAITS}) waits: the next is refused (STORAGE_FAILURE), the held ones still answer`, async () => {
    const ref = { ...uniqueRef(), database: 'default' };
    const name = streamObjectName(ref);
    await runInDurableObject(objectNamed(name), async (object: EventStoreObject) => {
      const held = Array.from({ length: MAX_WAITS }, () =>
        object.waitStream({ ref, after: 0, timeoutMs: MAX_WAIT_MS }),
      );
      const refused = await refusedOnceFull(() =>
        object.waitStream({ ref, after: 0, timeoutMs: 1 }),
      );
      expect(isStorageError(refused)).toBe(true);
      expect((refused as Error).message).toContain(`${MAX_WAITS} waits`);
      unwrapResult(await object.append({ ref, events: [deposit(1)] }));
      const answers = (await Promise.all(held)).map((result) => unwrapResult(result));
      expect(new Set(answers)).toEqual(new Set([1]));
      // Room again once they answered.
      expect(unwrapResult(await object.waitStream({ ref, after: 0, timeoutMs: 0 }))).toBe(1);
    });
  });

  it('the RPC store long-polls: a tail started on a quiet stream gets the next append', async () => {
    const ref = uniqueRef();
    const store = createDurableObjectEventStore(env.STORE);
    const rpc = eventStoreObjectRpc(objectNamed(streamObjectName({ ...ref, database: 'default' })));
    const seen: number[] = [];
    // pollIntervalMs far beyond the test: only a wait that answers can deliver.
    const stop = store
      .stream(ref)
      .subscribe((events) => seen.push(...events.map((e) => e.version)), {
        pollIntervalMs: 600_000,
      });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      unwrapResult(
        await rpc.append({ ref: { ...ref, database: 'default' }, events: [deposit(1)] }),
      );
      await expect.poll(() => seen, { timeout: 10_000 }).toEqual([1]);
    } finally {
      stop();
    }
  });

  it("a session's subscribe long-polls too, session-less: its tail outlives the session", async () => {
    const ref = uniqueRef();
    const store = createDurableObjectEventStore(env.STORE);
    const session = await store.open(ref);
    const seen: number[] = [];
    const stop = session.subscribe((events) => seen.push(...events.map((e) => e.version)), {
      pollIntervalMs: 600_000,
    });
    try {
      await session.append(deposit(1));
      await expect.poll(() => seen, { timeout: 10_000 }).toEqual([1]);
      await session.close();
      await store.stream(ref).append(deposit(2));
      await expect.poll(() => seen, { timeout: 10_000 }).toEqual([1, 2]);
    } finally {
      stop();
    }
  });
});
