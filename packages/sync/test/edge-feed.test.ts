import {
  createMemoryKv,
  type EventStore,
  type EventStream,
  isInvalidArgumentError,
  type RecordedEvent,
  StorageError,
  type StreamId,
} from '@eventkv/core';
import { createReplica, type Replica } from '@eventkv/core/replica';
import { describe, expect, it } from 'vitest';
import {
  createEdgeRemote,
  createSyncEdge,
  createSyncedStore,
  type PullResponse,
  SYNC_PROTOCOL,
  type SyncRemote,
} from '../src/index.js';

// The edge with the streams in a store of their own and the log in a copy of them (a
// Durable Object per stream, and the database's feed that they deliver to): pushes append
// in the streams' store, pulls read the copy, and deliveries reach the copy late, partly
// or never.

type Ledger = { type: 'Deposited'; data: { amount: number } };

const database = 'acme';
const principal = { database, user: 'ann' };
const account = { type: 'Account', id: '42' };
const savings = { type: 'Account', id: '7' };
const ref = (key: { type: string; id: string }): StreamId => ({ database, ...key });
const deposit = (amount: number) => ({ type: 'Deposited', data: { amount } }) as const;

/**
 * The split edge: the streams (no log of their own, as a stream object keeps none), the
 * feed (the log and the edge's records), and a delivery that copies a stream's events to
 * the feed up to a version, as a stream object's delivery does (idempotent by version).
 */
const splitEdge = (streams: Pick<EventStore, 'stream'> | undefined = undefined) => {
  const authority = createReplica({ kv: createMemoryKv(), globalLog: false, indexes: false });
  const feed = createReplica({ kv: createMemoryKv() });
  const edge = createSyncEdge({ replica: feed, streams: streams ?? authority.store });
  const deliver = async (key: { type: string; id: string }, upTo?: number) => {
    const events = await authority.store
      .stream(ref(key))
      .read(upTo === undefined ? {} : { to: upTo });
    if (events.length > 0) await feed.replicate(ref(key), events);
  };
  return { authority, feed, edge, deliver };
};

const replicaOf = (remote: SyncRemote) =>
  createSyncedStore<Ledger>({ kv: createMemoryKv(), remote });

/** The feed's whole log: each event once, in position order, no gap in any stream. */
const logOf = async (feed: Replica): Promise<RecordedEvent[]> => {
  const { events } = await feed.store.readLog({ database, limit: 1000 });
  expect(events.map((e) => e.position)).toEqual(events.map((_, i) => i + 1));
  const ids = events.map((e) => e.metadata.messageId);
  expect(new Set(ids).size).toBe(ids.length);
  const last = new Map<string, number>();
  for (const e of events) {
    const key = `${e.metadata.aggregateType}/${e.metadata.aggregateId}`;
    expect(e.version, `${key} in order, without a gap`).toBe((last.get(key) ?? 0) + 1);
    last.set(key, e.version);
  }
  return events;
};

const amounts = (events: readonly { data?: unknown }[]) =>
  events.map((e) => (e.data as { amount: number }).amount);

describe('the edge over streams and a feed (a Durable Object per stream)', () => {
  it("answers a push once the log holds its events, so anyone's next pull has them", async () => {
    const { authority, feed, edge } = splitEdge();
    const a = replicaOf(createEdgeRemote(edge, principal));
    const b = replicaOf(createEdgeRemote(edge, { database, user: 'bob' }));
    await a.stream(account).append([deposit(1), deposit(2)]);
    // No delivery at all: the push itself brings the feed up to what it appended.
    await expect(a.sync.syncNow()).resolves.toEqual({ pushed: 2, pulled: 0 });
    expect(await authority.store.stream(ref(account)).version()).toBe(2);
    expect(amounts(await logOf(feed))).toEqual([1, 2]);
    await expect(b.sync.syncNow()).resolves.toEqual({ pushed: 0, pulled: 2 });
    expect((await b.stream(account).read()).map((e) => [e.version, e.confirmed])).toEqual([
      [1, true],
      [2, true],
    ]);
  });

  it("another writer's appends the feed lacks: pulls show no gap or duplicate, a push on that stream is a conflict with them, and the late delivery adds nothing", async () => {
    const { authority, feed, edge, deliver } = splitEdge();
    const remote = createEdgeRemote(edge, principal);
    // Appended through the streams' own API; the delivery has brought only the first.
    await authority.store.stream(ref(account)).append([deposit(10), deposit(20)]);
    await deliver(account, 1);

    const reader = replicaOf(createEdgeRemote(edge, { database, user: 'bob' }));
    await reader.sync.syncNow();
    expect(amounts(await reader.stream(account).read())).toEqual([10]);

    // Decided on version 0 offline, with a stream the others never touched.
    const writer = replicaOf(remote);
    await writer.stream(account).append(deposit(5), { expectedVersion: 0 });
    await writer.stream(savings).append(deposit(7), { expectedVersion: 0 });
    await writer.sync.syncNow();
    const [conflict] = await writer.sync.conflicts();
    expect(conflict).toMatchObject({ kind: 'conflict', base: 0, ref: ref(account) });
    expect(amounts(conflict?.theirs ?? [])).toEqual([10, 20]);
    expect(amounts(conflict?.mine ?? [])).toEqual([5]);
    // Only that stream waits: the other was accepted.
    expect((await writer.stream(savings).read()).map((e) => e.confirmed)).toEqual([true]);
    expect(await writer.sync.status()).toMatchObject({ pending: 1, conflicts: 1 });

    // The conflict's events are in the log now, once; the late delivery changes nothing.
    const before = await logOf(feed);
    expect(before.map((e) => `${e.metadata.aggregateId}:${amounts([e])[0]}`).sort()).toEqual([
      '42:10',
      '42:20',
      '7:7',
    ]);
    await deliver(account);
    await deliver(savings);
    expect(await logOf(feed)).toEqual(before);

    await writer.sync.resolve(ref(account), { rebase: () => [deposit(5)] });
    await writer.sync.syncNow();
    await reader.sync.syncNow();
    expect(amounts(await reader.stream(account).read())).toEqual([10, 20, 5]);
    expect(amounts(await authority.store.stream(ref(account)).read())).toEqual([10, 20, 5]);
    expect(amounts((await logOf(feed)).slice(3))).toEqual([5]);
  });

  it('fills in the versions a late delivery left out before the ones it pushed', async () => {
    const { feed, edge, authority, deliver } = splitEdge();
    const a = replicaOf(createEdgeRemote(edge, principal));
    await a.stream(account).append(deposit(1));
    await a.sync.syncNow();
    // Another writer's three appends, of which the feed got none yet.
    await authority.store.stream(ref(account)).append([deposit(2), deposit(3), deposit(4)]);
    await a.stream(account).append(deposit(5), { expectedVersion: 1 });
    await a.sync.syncNow();
    await a.sync.resolve(ref(account), { rebase: () => [deposit(5)] });
    await a.sync.syncNow();
    expect(amounts(await a.stream(account).read())).toEqual([1, 2, 3, 4, 5]);
    await deliver(account);
    expect(amounts(await logOf(feed))).toEqual([1, 2, 3, 4, 5]);
  });

  it('a push whose copy into the log fails is answered with the failure, unrecorded; its retry appends nothing twice', async () => {
    let failReads = 1;
    const authorityOf: { store?: EventStore } = {};
    // The streams' store of the edge, whose reads fail while `failReads` lasts: the append
    // has landed, the copy into the feed cannot be made (the stream's object unreachable).
    const flaky: Pick<EventStore, 'stream'> = {
      stream: (r) => {
        const stream = (authorityOf.store as EventStore).stream(r);
        return new Proxy(stream, {
          get(target, property) {
            if (property === 'read' && failReads > 0) {
              failReads--;
              return () => Promise.reject(new StorageError('read', { detail: 'unreachable' }));
            }
            const value = Reflect.get(target, property) as unknown;
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }) as EventStream;
      },
    };
    const { authority, feed, edge } = splitEdge(flaky);
    authorityOf.store = authority.store;
    const a = replicaOf(createEdgeRemote(edge, principal));
    await a.stream(account).append([deposit(1), deposit(2)]);
    await expect(a.sync.syncNow()).rejects.toThrow(/unreachable/);
    expect(await a.sync.status()).toMatchObject({ pending: 2 });
    expect(await authority.store.stream(ref(account)).version()).toBe(2);
    expect(await logOf(feed)).toEqual([]);

    await expect(a.sync.syncNow()).resolves.toEqual({ pushed: 2, pulled: 0 });
    expect(await a.sync.status()).toMatchObject({ pending: 0, conflicts: 0 });
    expect(await authority.store.stream(ref(account)).version()).toBe(2);
    expect(amounts(await logOf(feed))).toEqual([1, 2]);
  });

  it("a push one of whose streams' appends fails is answered with the failure, unrecorded; its retry lands each stream once", async () => {
    let failAppends = 1;
    const authorityOf: { store?: EventStore } = {};
    // The stream 7's object fails the first append it is sent (unreachable); 42's lands.
    const flaky: Pick<EventStore, 'stream'> = {
      stream: (r) => {
        const stream = (authorityOf.store as EventStore).stream(r);
        return new Proxy(stream, {
          get(target, property) {
            if (property === 'append' && r.id === savings.id && failAppends > 0) {
              failAppends--;
              return () => Promise.reject(new StorageError('append', { detail: 'unreachable' }));
            }
            const value = Reflect.get(target, property) as unknown;
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }) as EventStream;
      },
    };
    const { authority, feed, edge } = splitEdge(flaky);
    authorityOf.store = authority.store;
    const a = replicaOf(createEdgeRemote(edge, principal));
    await a.stream(account).append(deposit(1));
    await a.stream(savings).append(deposit(2));
    await expect(a.sync.syncNow()).rejects.toThrow(/unreachable/);
    expect(await a.sync.status()).toMatchObject({ pending: 2 });
    expect(await authority.store.stream(ref(account)).version()).toBe(1);
    expect(await authority.store.stream(ref(savings)).version()).toBe(0);

    await expect(a.sync.syncNow()).resolves.toEqual({ pushed: 2, pulled: 0 });
    expect(await a.sync.status()).toMatchObject({ pending: 0, conflicts: 0 });
    expect(await authority.store.stream(ref(account)).version()).toBe(1);
    expect(await authority.store.stream(ref(savings)).version()).toBe(1);
    expect(amounts(await logOf(feed)).sort()).toEqual([1, 2]);
  });

  it("asks the streams' own delivery first (option deliver): what it brings is not read or copied again, what it leaves missing is", async () => {
    const authority = createReplica({ kv: createMemoryKv(), globalLog: false, indexes: false });
    const feed = createReplica({ kv: createMemoryKv() });
    const reads: string[] = [];
    const counting: Pick<EventStore, 'stream'> = {
      stream: (r) => {
        const stream = authority.store.stream(r);
        return new Proxy(stream, {
          get(target, property) {
            if (property === 'read') reads.push(r.id);
            const value = Reflect.get(target, property) as unknown;
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }) as EventStream;
      },
    };
    const asked: string[] = [];
    let delivering = true;
    const edge = createSyncEdge({
      replica: feed,
      streams: counting,
      deliver: async (r, version) => {
        asked.push(`${r.id}@${version}`);
        if (!delivering) return false;
        await feed.replicate(r, await authority.store.stream(r).read({ to: version }));
        return true;
      },
    });
    const a = replicaOf(createEdgeRemote(edge, principal));
    await a.stream(account).append([deposit(1), deposit(2)]);
    await a.stream(savings).append(deposit(3));
    await expect(a.sync.syncNow()).resolves.toMatchObject({ pushed: 3 });
    expect(asked.sort()).toEqual(['42@2', '7@1']);
    expect(reads).toEqual([]);
    expect(amounts(await logOf(feed)).sort()).toEqual([1, 2, 3]);

    // A delivery that fails: the edge copies what it left missing.
    delivering = false;
    await a.stream(account).append(deposit(4));
    await expect(a.sync.syncNow()).resolves.toMatchObject({ pushed: 1 });
    expect(asked).toContain('42@3');
    expect(reads).toEqual(['42']);
    expect(amounts(await logOf(feed)).sort()).toEqual([1, 2, 3, 4]);
  });

  it('answers a repeated push from its record, the log unchanged', async () => {
    const { feed, edge } = splitEdge();
    const push = {
      protocol: SYNC_PROTOCOL,
      clientId: 'c1',
      epoch: 1,
      seq: 1,
      entries: [
        {
          stream: account,
          expectedVersion: 0,
          events: [{ ...deposit(1), metadata: { messageId: 'm1' } }],
        },
      ],
    };
    const first = await edge.push(principal, push);
    const again = await edge.push(principal, push);
    expect(first).toMatchObject({ outcome: 'applied', replayed: false });
    expect(again).toMatchObject({ outcome: 'applied', replayed: true });
    expect(again.outcome === 'applied' && again.results).toEqual(
      first.outcome === 'applied' && first.results,
    );
    // The events it answers are the log's, with their positions there.
    expect(first.outcome === 'applied' && first.results[0]).toMatchObject({
      status: 'accepted',
      events: [{ version: 1, position: 1, metadata: { messageId: 'm1' } }],
    });
    expect(await logOf(feed)).toHaveLength(1);
  });

  it("a long-poll wakes when a push's copy lands in the log", async () => {
    const { edge } = splitEdge();
    const pulled = (await edge.pull(principal, { protocol: SYNC_PROTOCOL })) as Extract<
      PullResponse,
      { events: unknown }
    >;
    const waiting = edge.wait(principal, {
      protocol: SYNC_PROTOCOL,
      cursor: pulled.cursor,
      timeoutMs: 20_000,
    });
    const a = replicaOf(createEdgeRemote(edge, principal));
    await a.stream(account).append(deposit(1));
    await a.sync.syncNow();
    expect(await waiting).toMatchObject({ changed: true });
  });

  it('refuses pulls and long-polls over a store that keeps no log', async () => {
    const edge = createSyncEdge({
      replica: createReplica({ kv: createMemoryKv(), globalLog: false, indexes: false }),
    });
    for (const call of [
      () => edge.pull(principal, { protocol: SYNC_PROTOCOL }),
      () => edge.wait(principal, { protocol: SYNC_PROTOCOL }),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(isInvalidArgumentError(error) && error.message).toMatch(/keeps no global log/);
    }
  });
});
