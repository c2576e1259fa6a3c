import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { StreamId } from '@eventkv/core';
import { type PushResponse, SYNC_PROTOCOL } from '@eventkv/sync/edge';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  databaseObjectName,
  eventStoreObjectRpc,
  streamObjectName,
  syncObject,
  unwrapResult,
} from '../src/index.js';
import { deposit } from './helpers.js';
import type { FlakyFeedObject } from './worker.js';

// A sync push under 'stream' routing appends in the stream objects, then the feed brings
// its copy of those streams up to date before answering. It asks each stream object to
// deliver first (`feedFlush`), and copies only what that leaves missing: each event then
// reaches the feed once, by the delivery (the edge's side is tested in
// packages/sync/test/edge-feed.test.ts).

const stub = (name: string) => env.FLAKY.get(env.FLAKY.idFromName(name));
const setDown = (database: string, down: boolean) =>
  runInDurableObject(stub(databaseObjectName(database)), (feed: FlakyFeedObject) => {
    feed.down = down;
  });
const feedHolds = async (database: string, ref: StreamId, version: number) =>
  unwrapResult(
    await eventStoreObjectRpc(stub(databaseObjectName(database))).feedWait({
      streams: [{ ref, version }],
      timeoutMs: 0,
    }),
  );

describe('feedFlush', () => {
  it("delivers a stream object's events to its feed now: true once the feed holds them, false while it is down", async () => {
    const database = `flush-${crypto.randomUUID()}`;
    const ref: StreamId = { database, type: 'Account', id: 'f' };
    const object = eventStoreObjectRpc(stub(streamObjectName(ref)));
    await setDown(database, true);
    await createDurableObjectEventStore(env.FLAKY, { routing: 'stream', database })
      .stream(ref)
      .append([deposit(1), deposit(2)]);
    expect(unwrapResult(await object.feedFlush({ ref }))).toBe(false);
    expect(await feedHolds(database, ref, 1)).toBe(false);
    await setDown(database, false);
    expect(unwrapResult(await object.feedFlush({ ref }))).toBe(true);
    expect(await feedHolds(database, ref, 2)).toBe(true);
    // Another stream's object refuses it; the database's object has no delivery.
    const other: StreamId = { database, type: 'Account', id: 'g' };
    expect((await object.feedFlush({ ref: other })).ok).toBe(false);
    const feed = eventStoreObjectRpc(stub(databaseObjectName(database)));
    expect(unwrapResult(await feed.feedFlush({ ref }))).toBe(false);
  });

  it("a push under 'stream' routing is answered once the feed holds it, delivered or, while delivery fails, copied", async () => {
    const database = `flush-${crypto.randomUUID()}`;
    const edge = syncObject(env.FLAKY, database, { routing: 'stream' });
    const entry = (id: string, n: number) => ({
      stream: { type: 'Account', id },
      expectedVersion: 0,
      events: [{ ...deposit(n), metadata: { messageId: `${id}-${n}` } }],
    });
    const pushOf = (seq: number, id: string, n: number) =>
      edge.push(
        { database, user: 'ann' },
        { protocol: SYNC_PROTOCOL, clientId: 'c', epoch: 1, seq, entries: [entry(id, n)] },
      ) as Promise<Extract<PushResponse, { outcome: 'applied' }>>;
    expect((await pushOf(1, 'delivered', 1)).results[0]?.status).toBe('accepted');
    expect(await feedHolds(database, { database, type: 'Account', id: 'delivered' }, 1)).toBe(true);
    await setDown(database, true);
    expect((await pushOf(2, 'copied', 2)).results[0]?.status).toBe('accepted');
    expect(await feedHolds(database, { database, type: 'Account', id: 'copied' }, 1)).toBe(true);
  });
});
