import { createMemoryKv, type Kv } from '@eventkv/core';
import { kvCommit, kvGet } from '@eventkv/core/kv';
import { createReplica } from '@eventkv/core/replica';
import { createManualClock } from '@eventkv/core/testing';
import { describe, expect, it } from 'vitest';
import {
  createEdgeRemote,
  createSyncEdge,
  createSyncedStore,
  type PendingStreamStatus,
  type PushRequest,
  type SyncEdge,
  type SyncedStore,
  type SyncRemote,
} from '../src/index.js';

type Ledger =
  | { type: 'Opened'; data: { owner: string } }
  | { type: 'Deposited'; data: { amount: number } };

const principal = { database: 'acme', user: 'ann' };
const acc = (id: string) => ({ type: 'Account', id });
const ref = (id: string) => ({ database: 'acme', type: 'Account', id });
const deposit = (amount: number) => ({ type: 'Deposited' as const, data: { amount } });
const T0 = Date.UTC(2026, 0, 1);

const makeEdge = (options: { maxEventBytes?: number } = {}) => {
  const replica = createReplica({ kv: createMemoryKv(), ...options });
  return { edge: createSyncEdge({ replica }), store: replica.store };
};

/** A KV that records the keys and ranges each read asks for. */
const watched = (kv: Kv) => {
  const reads: string[] = [];
  const wrapped: Kv = {
    capabilities: kv.capabilities,
    read: (keys, then) => {
      reads.push(...keys);
      return kv.read(
        keys,
        then &&
          ((values) => {
            const range = then(values);
            if (range) reads.push(range.prefix ?? range.start ?? '');
            return range;
          }),
      );
    },
    write: (keys, plan) => kv.write(keys, plan),
  };
  return { kv: wrapped, reads };
};

const outboxReads = (reads: readonly string[]) => reads.filter((k) => k.startsWith('#sync/o/'));

const replicaOn = (
  edge: SyncEdge,
  options: { kv?: Kv; remote?: SyncRemote; clock?: ReturnType<typeof createManualClock> } = {},
) => {
  const clock = options.clock ?? createManualClock(T0);
  const store = createSyncedStore<Ledger>({
    kv: options.kv ?? createMemoryKv(),
    remote: options.remote ?? createEdgeRemote(edge, principal),
    clock,
  });
  return { store, clock };
};

/** The unconfirmed events of the given streams as reads show them: what status must count. */
const unconfirmed = async (store: SyncedStore<Ledger>, ids: readonly string[]) => {
  let n = 0;
  for (const id of ids)
    n += (await store.stream(acc(id)).read()).filter((e) => !e.confirmed).length;
  return n;
};

describe("a synced store's status and pending streams", () => {
  it('count pending events and the oldest append across appends and pushes', async () => {
    const { edge } = makeEdge();
    const { store, clock } = replicaOn(edge);
    expect(await store.sync.status()).toMatchObject({
      pending: 0,
      oldestPendingAt: undefined,
      conflicts: 0,
    });
    expect(await store.sync.pendingStreams()).toEqual([]);

    await store.stream(acc('a')).append([deposit(1), deposit(2)]);
    clock.advance(1_000);
    await store.stream(acc('b')).append(deposit(3));
    clock.advance(1_000);
    await store.stream(acc('a')).append(deposit(4));
    expect(await store.sync.status()).toMatchObject({ pending: 4, oldestPendingAt: T0 });
    expect(await store.sync.pendingStreams()).toEqual<PendingStreamStatus[]>([
      { ref: ref('a'), pending: 3, since: T0 },
      { ref: ref('b'), pending: 1, since: T0 + 1_000 },
    ]);

    await store.sync.syncNow();
    expect(await store.sync.status()).toMatchObject({ pending: 0, oldestPendingAt: undefined });
    expect(await store.sync.pendingStreams()).toEqual([]);

    // A stream that had pending events starts again from the next append.
    clock.advance(1_000);
    await store.stream(acc('a')).append(deposit(5));
    expect(await store.sync.status()).toMatchObject({ pending: 1, oldestPendingAt: T0 + 3_000 });
    expect(await store.sync.pendingStreams()).toEqual([
      { ref: ref('a'), pending: 1, since: T0 + 3_000 },
    ]);
  });

  it('a push that takes part of a stream leaves the rest counted from its oldest append', async () => {
    const { edge } = makeEdge();
    const inner = createEdgeRemote(edge, principal);
    const pushes: PushRequest[] = [];
    // The edge answers the first push; the second does not reach it.
    const remote: SyncRemote = {
      database: inner.database,
      push: async (request) => {
        pushes.push(request);
        if (pushes.length > 1) throw new TypeError('Failed to fetch');
        return inner.push(request);
      },
      pull: (request) => inner.pull(request),
    };
    const { store, clock } = replicaOn(edge, { remote });
    const many = Array.from({ length: 1000 }, (_, i) => deposit(i));
    await store.stream(acc('a')).append(many);
    clock.advance(1_000);
    await store.stream(acc('a')).append([deposit(1), deposit(2)]);
    clock.advance(1_000);
    await store.stream(acc('a')).append(deposit(3));

    // A push carries at most 1,000 events of a stream: the first append alone.
    await expect(store.sync.syncNow()).rejects.toThrow('Failed to fetch');
    expect(pushes[0]?.entries[0]?.events).toHaveLength(1000);
    expect(await store.sync.status()).toMatchObject({
      pending: 3,
      oldestPendingAt: T0 + 1_000,
      lastError: { message: 'Failed to fetch' },
    });
    expect(await store.sync.pendingStreams()).toEqual([
      { ref: ref('a'), pending: 3, since: T0 + 1_000 },
    ]);
    expect(await unconfirmed(store, ['a'])).toBe(3);
  });

  it('a push accepted for one stream and refused for others counts each stream apart', async () => {
    const { edge } = makeEdge({ maxEventBytes: 64 });
    const other = replicaOn(edge).store;
    await other.stream(acc('taken')).append(deposit(100));
    await other.sync.syncNow();

    const { store, clock } = replicaOn(edge);
    await store.stream(acc('taken')).append(deposit(1), { expectedVersion: 0 });
    clock.advance(1_000);
    await store.stream(acc('big')).append({ type: 'Opened', data: { owner: 'x'.repeat(100) } });
    clock.advance(1_000);
    await store.stream(acc('fine')).append([deposit(2), deposit(3)]);
    await store.sync.syncNow();

    expect(await store.sync.status()).toMatchObject({
      pending: 2,
      oldestPendingAt: T0,
      conflicts: 2,
    });
    expect(await store.sync.pendingStreams()).toEqual([
      { ref: ref('taken'), pending: 1, since: T0, conflict: 'conflict' },
      { ref: ref('big'), pending: 1, since: T0 + 1_000, conflict: 'rejected' },
    ]);
    expect(await unconfirmed(store, ['taken', 'big', 'fine'])).toBe(2);

    // Appends to a conflicted stream add to its count and keep its oldest time.
    clock.advance(1_000);
    await store.stream(acc('taken')).append(deposit(4));
    expect((await store.sync.pendingStreams())[0]).toEqual({
      ref: ref('taken'),
      pending: 2,
      since: T0,
      conflict: 'conflict',
    });
    expect(await store.sync.status()).toMatchObject({ pending: 3, conflicts: 2 });
  });

  it('a discard, a rebase and a resolution with events set the counts to what replaced them', async () => {
    const { edge } = makeEdge();
    const other = replicaOn(edge).store;
    for (const id of ['d', 'r', 'e']) await other.stream(acc(id)).append(deposit(100));
    await other.sync.syncNow();

    const { store, clock } = replicaOn(edge);
    for (const id of ['d', 'r', 'e']) {
      await store.stream(acc(id)).append([deposit(1), deposit(2)], { expectedVersion: 0 });
    }
    await store.sync.syncNow();
    expect(await store.sync.status()).toMatchObject({ pending: 6, conflicts: 3 });

    clock.advance(5_000);
    await store.sync.resolve(acc('d'), { discard: true });
    expect(await store.sync.status()).toMatchObject({
      pending: 4,
      oldestPendingAt: T0,
      conflicts: 2,
    });

    clock.advance(1_000);
    // The rebase decides one event in place of the two pending ones.
    await store.sync.resolve(acc('r'), {
      rebase: (c) => (c.mine.length === 2 ? [deposit(3)] : []),
    });
    clock.advance(1_000);
    await store.sync.resolve(acc('e'), { events: [deposit(4), deposit(5), deposit(6)] });
    expect(await store.sync.status()).toMatchObject({
      pending: 4,
      oldestPendingAt: T0 + 6_000,
      conflicts: 0,
    });
    expect(await store.sync.pendingStreams()).toEqual([
      { ref: ref('r'), pending: 1, since: T0 + 6_000 },
      { ref: ref('e'), pending: 3, since: T0 + 7_000 },
    ]);
    expect(await unconfirmed(store, ['d', 'r', 'e'])).toBe(4);

    await store.sync.syncNow();
    expect(await store.sync.status()).toMatchObject({ pending: 0, conflicts: 0 });
    expect(await store.sync.pendingStreams()).toEqual([]);
  });

  it('a rebase that decides nothing leaves no pending events', async () => {
    const { edge } = makeEdge();
    const other = replicaOn(edge).store;
    await other.stream(acc('a')).append(deposit(100));
    await other.sync.syncNow();
    const { store } = replicaOn(edge);
    await store.stream(acc('a')).append(deposit(1), { expectedVersion: 0 });
    await store.sync.syncNow();
    await store.sync.resolve(acc('a'), { rebase: () => [] });
    expect(await store.sync.status()).toMatchObject({ pending: 0, oldestPendingAt: undefined });
    expect(await store.sync.pendingStreams()).toEqual([]);
  });

  it('lists a diverged stream with nothing pending after the streams with pending events', async () => {
    const first = makeEdge();
    const kv = createMemoryKv();
    const before = replicaOn(first.edge, { kv }).store;
    await before.stream(acc('x')).append(deposit(1));
    await before.sync.syncNow();

    // The edge's data is replaced: its stream x holds another event.
    const second = makeEdge();
    const writer = replicaOn(second.edge).store;
    await writer.stream(acc('x')).append(deposit(2));
    await writer.sync.syncNow();

    const { store, clock } = replicaOn(second.edge, { kv });
    clock.advance(1_000);
    await store.stream(acc('y')).append(deposit(3));
    await store.sync.syncNow();
    // y was pushed; x holds nothing pending but waits for the app.
    expect(await store.sync.pendingStreams()).toEqual([
      { ref: ref('x'), pending: 0, since: undefined, conflict: 'diverged' },
    ]);
    expect(await store.sync.status()).toMatchObject({ pending: 0, conflicts: 1 });
    clock.advance(1_000);
    await store.stream(acc('z')).append(deposit(4));
    expect(await store.sync.pendingStreams()).toEqual([
      { ref: ref('z'), pending: 1, since: T0 + 2_000 },
      { ref: ref('x'), pending: 0, since: undefined, conflict: 'diverged' },
    ]);
  });

  it('status() and pendingStreams() read the stream states, never the outbox', async () => {
    const { edge } = makeEdge();
    const storage = watched(createMemoryKv());
    const { store } = replicaOn(edge, { kv: storage.kv });
    for (let i = 0; i < 50; i++) await store.stream(acc(`s${i % 5}`)).append(deposit(i));
    storage.reads.length = 0;
    expect(await store.sync.status()).toMatchObject({ pending: 50 });
    expect(await store.sync.pendingStreams()).toHaveLength(5);
    expect(outboxReads(storage.reads)).toEqual([]);
  });

  it('an append whose message ids are all generated does not read the outbox; a retry is still deduplicated', async () => {
    const { edge } = makeEdge();
    const storage = watched(createMemoryKv());
    const { store } = replicaOn(edge, { kv: storage.kv });
    const stream = store.stream(acc('a'));
    for (let i = 0; i < 20; i++) await stream.append(deposit(i));

    storage.reads.length = 0;
    await expect(stream.append(deposit(20))).resolves.toMatchObject({ version: 21 });
    expect(outboxReads(storage.reads)).toEqual([]);

    const retry = { ...deposit(21), metadata: { messageId: 'mine-1' } };
    await expect(stream.append(retry)).resolves.toMatchObject({
      version: 22,
      deduplicated: false,
    });
    await expect(stream.append(retry)).resolves.toMatchObject({
      version: 22,
      deduplicated: true,
    });
    expect(await store.sync.status()).toMatchObject({ pending: 22 });
    await store.sync.syncNow();
    await expect(stream.append(retry)).resolves.toMatchObject({
      version: 22,
      deduplicated: true,
    });
    expect(await store.sync.status()).toMatchObject({ pending: 0 });
  });
});

describe('a local database written before the counts were kept', () => {
  // The records as the previous release wrote them: a state without `pending` or `since`.
  const oldShape = async (kv: Kv) => {
    const stream = ref('42');
    const entry = (n: number, from: number, amounts: number[], appendedAt: number) => ({
      key: `#sync/o/acme/Account/42/${n.toString().padStart(16, '0')}`,
      value: {
        ref: stream,
        n,
        from,
        events: amounts.map((amount, i) => ({
          type: 'Deposited',
          data: { amount },
          metadata: { messageId: `old-${n}-${i}` },
        })),
        appendedAt,
      },
    });
    await kvCommit(kv, {
      puts: [
        { key: '#sync/meta', value: { clientId: 'old-client', epoch: 1, seq: 0 } },
        { key: '#sync/s/acme/Account/42', value: { ref: stream, next: 3 } },
        entry(1, 1, [1, 2], T0 - 60_000),
        entry(2, 3, [3], T0 - 30_000),
      ],
    });
  };

  it('reports the right status, stores the counts, and syncs', async () => {
    const { edge, store: edgeStore } = makeEdge();
    const kv = createMemoryKv();
    await oldShape(kv);
    const { store } = replicaOn(edge, { kv });

    expect(await store.sync.status()).toMatchObject({
      clientId: 'old-client',
      pending: 3,
      oldestPendingAt: T0 - 60_000,
      conflicts: 0,
    });
    expect(await store.sync.pendingStreams()).toEqual([
      { ref: ref('42'), pending: 3, since: T0 - 60_000 },
    ]);
    // Counted once, then kept in the state.
    const [state] = await kvGet(kv, ['#sync/s/acme/Account/42']);
    expect(state).toEqual({ ref: ref('42'), next: 3, pending: 3, since: T0 - 60_000 });

    expect(await store.stream(acc('42')).version()).toBe(3);
    await store.stream(acc('42')).append(deposit(4), { expectedVersion: 3 });
    expect(await store.sync.status()).toMatchObject({ pending: 4, oldestPendingAt: T0 - 60_000 });

    await expect(store.sync.syncNow()).resolves.toMatchObject({ pushed: 4 });
    expect(await store.sync.status()).toMatchObject({ pending: 0, oldestPendingAt: undefined });
    expect(
      (await edgeStore.stream(ref('42')).read()).map((e) => (e.data as { amount: number }).amount),
    ).toEqual([1, 2, 3, 4]);
  });

  it('an append to a stream in the old shape counts its outbox and stores the counts', async () => {
    const { edge } = makeEdge();
    const kv = createMemoryKv();
    await oldShape(kv);
    const { store } = replicaOn(edge, { kv });
    await store.stream(acc('42')).append(deposit(4), { expectedVersion: 3 });
    const [state] = await kvGet(kv, ['#sync/s/acme/Account/42']);
    expect(state).toEqual({ ref: ref('42'), next: 4, pending: 4, since: T0 - 60_000 });
    expect(await store.sync.status()).toMatchObject({ pending: 4, oldestPendingAt: T0 - 60_000 });
  });
});
