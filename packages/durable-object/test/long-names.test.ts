import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { StreamId } from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  databaseObjectName,
  eventStoreObjectRpc,
  streamObjectName,
  unwrapResult,
} from '../src/index.js';
import { deposit } from './helpers.js';
import type { FlakyFeedObject } from './worker.js';

// Names are up to 256 characters of any script, and an object name percent-encodes three
// of them: up to about 7 KB. The runtime tells an object its name only up to 1024 bytes,
// and a stream object under 'stream' routing needs its stream to deliver it to the
// database's feed, from its alarm too, which comes with no call. An object without a name
// takes the name of its first stream once that name's id proves to be its own, and keeps
// it in its storage: every name works under both routings.

/** A ref whose stream object name is exactly `bytes` long ('字' is 9 bytes encoded). */
const refOfNameBytes = (database: string, bytes: number): StreamId => {
  const base = streamObjectName({ database, type: 'T', id: 'x' }).length - 1;
  const left = bytes - base;
  return { database, type: 'T', id: '字'.repeat(Math.floor(left / 9)) + 'x'.repeat(left % 9) };
};

/** Restarts the object (nothing in memory after it); the call that aborts it fails. */
const restart = (stub: DurableObjectStub) =>
  runInDurableObject(stub, (_object, state) => state.abort('restart')).catch(() => undefined);

describe('stream names whose object name is long', () => {
  it('the runtime tells an object a name of 1024 bytes, and none of 1025', async () => {
    const nameOf = (name: string) =>
      runInDurableObject(
        env.STORE.get(env.STORE.idFromName(name)),
        (_object, state) => state.id.name,
      );
    const at = 'n'.repeat(1024);
    expect(await nameOf(at)).toBe(at);
    expect(await nameOf(`${at}n`)).toBeUndefined();
  });

  it("under 'stream' routing, streams at the limit and past it reach the feed alike", async () => {
    const database = `long-${crypto.randomUUID()}`;
    const store = createDurableObjectEventStore(env.STORE, { routing: 'stream', database });
    const fits = refOfNameBytes(database, 1024);
    const past = refOfNameBytes(database, 1025);
    expect(streamObjectName(fits)).toHaveLength(1024);
    expect(streamObjectName(past)).toHaveLength(1025);
    await store.stream(fits).append([deposit(1), deposit(2)]);
    await store.stream(past).append(deposit(3));
    expect(await store.stream(past).version()).toBe(1);
    const log = await store.readLog();
    expect(log.events.map((e) => [e.metadata.aggregateId, e.version])).toEqual([
      [fits.id, 1],
      [fits.id, 2],
      [past.id, 1],
    ]);
    expect((await store.query('aggregateType', 'T')).events).toHaveLength(3);
    // A session on it works as on any stream.
    const session = await store.open(past);
    await session.append(deposit(4));
    await session.close();
    expect((await store.stream(past).read()).map((e) => e.version)).toEqual([1, 2]);
  });

  it('the object of a stream past the limit serves that stream alone, and keeps its name across restarts', async () => {
    const database = `long-${crypto.randomUUID()}`;
    const ref = refOfNameBytes(database, 2000);
    // A stub breaks with its object's restart: each call takes a new one.
    const stub = () => env.STORE.get(env.STORE.idFromName(streamObjectName(ref)));
    const rpc = () => eventStoreObjectRpc(stub());
    unwrapResult(await rpc().append({ ref, events: [deposit(1)] }));
    const other = { ...ref, id: `${ref.id}y` };
    const refused = await rpc().append({ ref: other, events: [deposit(2)] });
    expect(refused).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', field: 'ref' } });
    // After a restart (nothing in memory) it knows its stream from its storage.
    await restart(stub());
    expect(await rpc().append({ ref: other, events: [deposit(2)] })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', field: 'ref' },
    });
    expect(unwrapResult(await rpc().version({ ref }))).toBe(1);
  });
  it('the object of a stream past the limit delivers to the feed from its alarm after a restart', async () => {
    const database = `long-${crypto.randomUUID()}`;
    const ref = refOfNameBytes(database, 2000);
    const feed = env.FLAKY.get(env.FLAKY.idFromName(databaseObjectName(database)));
    // A stub breaks with its object's restart: each call takes a new one.
    const object = () => env.FLAKY.get(env.FLAKY.idFromName(streamObjectName(ref)));
    const setDown = (down: boolean) =>
      runInDurableObject(feed, (instance: FlakyFeedObject) => {
        instance.down = down;
      });
    await setDown(true);
    const store = createDurableObjectEventStore(env.FLAKY, { routing: 'stream', database });
    await store.stream(ref).append([deposit(1), deposit(2)]);
    // Restarted with the delivery owed: the new instance has nothing in memory.
    await restart(object());
    await setDown(false);
    await runInDurableObject(object(), (instance: FlakyFeedObject) => instance.alarm());
    const log = unwrapResult(await eventStoreObjectRpc(feed).readLog({ options: { database } }));
    expect(log.events.map((e) => [e.metadata.aggregateId, e.version])).toEqual([
      [ref.id, 1],
      [ref.id, 2],
    ]);
  });

  it.each(['stream', 'database'] as const)(
    "under '%s' routing the longest database, type and id work, database-wide reads included",
    async (routing) => {
      const database = `long-${crypto.randomUUID()}-${'字'.repeat(200)}`;
      const store = createDurableObjectEventStore(env.STORE, { routing, database });
      const ref = { type: '字'.repeat(256), id: '字'.repeat(256) };
      await store.stream(ref).append([deposit(1), deposit(2)]);
      expect(await store.stream(ref).version()).toBe(2);
      expect((await store.readLog()).events).toHaveLength(2);
      expect((await store.query('aggregateType', ref.type)).events).toHaveLength(2);
    },
  );
});
