import { createMemoryKv, isVersionMismatchError, type Kv } from '@eventkv/core';
import { kvCommit, kvScan } from '@eventkv/core/kv';
import { createReplica } from '@eventkv/core/replica';
import { createIndexedDbKv } from '@eventkv/indexeddb';
import { describe, expect, it } from 'vitest';
import {
  createEdgeRemote,
  createSyncEdge,
  createSyncedStore,
  type PullRequest,
  type PushRequest,
  type SyncEdge,
  type SyncRemote,
} from '../src/index.js';

type Ledger =
  | { type: 'Opened'; data: { owner: string } }
  | { type: 'Deposited'; data: { amount: number } }
  | { type: 'Withdrawn'; data: { amount: number } };

const account = { type: 'Account', id: '42' };
const principal = { database: 'acme', user: 'ann' };

const makeEdge = (options: { maxEventBytes?: number } = {}) => {
  const replica = createReplica({ kv: createMemoryKv(), ...options });
  return { edge: createSyncEdge({ replica }), store: replica.store };
};

const replicaOn = (edge: SyncEdge, kv: Kv = createMemoryKv(), remote?: SyncRemote) =>
  createSyncedStore<Ledger>({ kv, remote: remote ?? createEdgeRemote(edge, principal) });

/** A KV that runs a callback (once) before its next write: an app's append landing mid-sync. */
const interposing = (kv: Kv) => {
  let before: (() => Promise<unknown>) | undefined;
  const take = async () => {
    const run = before;
    before = undefined;
    await run?.();
  };
  const wrapped: Kv = {
    capabilities: kv.capabilities,
    read: (keys, then) => kv.read(keys, then),
    async write(keys, plan) {
      await take();
      await kv.write(keys, plan);
    },
  };
  return {
    kv: wrapped,
    beforeNextWrite: (run: () => Promise<unknown>) => {
      before = run;
    },
  };
};

const shape = (
  events: readonly {
    type: string;
    version: number;
    data?: unknown;
    metadata: { messageId: string };
  }[],
) =>
  events.map((e) => ({ type: e.type, version: e.version, data: e.data, id: e.metadata.messageId }));

describe('a synced store', () => {
  it('keeps appends pending until the edge confirms them, at the same versions', async () => {
    const { edge, store: edgeStore } = makeEdge();
    const local = replicaOn(edge);
    const stream = local.stream(account);
    await stream.append(
      { type: 'Opened', data: { owner: 'ann' } },
      { expectedVersion: 'no-stream' },
    );
    await stream.append({ type: 'Deposited', data: { amount: 10 } }, { expectedVersion: 1 });
    expect((await stream.read()).map((e) => e.confirmed)).toEqual([false, false]);
    expect(await stream.version()).toBe(2);
    expect(await local.sync.status()).toMatchObject({ pending: 2, conflicts: 0 });

    await expect(local.sync.syncNow()).resolves.toEqual({ pushed: 2, pulled: 0 });
    const mine = await stream.read();
    expect(mine.map((e) => e.confirmed)).toEqual([true, true]);
    const theirs = await edgeStore.stream({ database: 'acme', ...account }).read();
    expect(shape(mine)).toEqual(shape(theirs));
    expect(mine.map((e) => e.metadata.timestamp)).toEqual(theirs.map((e) => e.metadata.timestamp));
    expect(await local.sync.status()).toMatchObject({ pending: 0, oldestPendingAt: undefined });
  });

  it('pulls what other replicas pushed, and they converge', async () => {
    const { edge } = makeEdge();
    const a = replicaOn(edge);
    const b = replicaOn(edge);
    await a.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    await a.sync.syncNow();
    await expect(b.sync.syncNow()).resolves.toEqual({ pushed: 0, pulled: 1 });
    expect(shape(await b.stream(account).read())).toEqual(shape(await a.stream(account).read()));
    expect((await b.stream(account).read())[0]?.confirmed).toBe(true);
  });

  it('a conflict blocks only its stream, reaches the app, and a rebase settles it', async () => {
    const { edge } = makeEdge();
    const a = replicaOn(edge);
    const b = replicaOn(edge);
    const heard: string[] = [];
    b.sync.on((event) => heard.push(event.type));
    await a
      .stream(account)
      .append({ type: 'Deposited', data: { amount: 100 } }, { expectedVersion: 0 });
    await b
      .stream(account)
      .append(
        { type: 'Withdrawn', data: { amount: 30 } },
        { expectedVersion: 0, command: { withdraw: 30 } },
      );
    await b
      .stream({ type: 'Account', id: 'other' })
      .append({ type: 'Opened', data: { owner: 'bob' } });
    await a.sync.syncNow();
    await b.sync.syncNow();

    expect(heard).toContain('conflict');
    const [conflict] = await b.sync.conflicts();
    expect(conflict).toMatchObject({ kind: 'conflict', base: 0, commands: [{ withdraw: 30 }] });
    expect(shape(conflict!.theirs)).toEqual([
      { type: 'Deposited', version: 1, data: { amount: 100 }, id: expect.any(String) },
    ]);
    expect(conflict!.mine.map((e) => e.type)).toEqual(['Withdrawn']);
    // The other stream synced on.
    expect((await b.stream({ type: 'Account', id: 'other' }).read())[0]?.confirmed).toBe(true);
    // Reads show the edge's event confirmed, then the pending one after it.
    expect((await b.stream(account).read()).map((e) => [e.type, e.version, e.confirmed])).toEqual([
      ['Deposited', 1, true],
      ['Withdrawn', 2, false],
    ]);

    await b.sync.resolve(account, {
      rebase: (c) => {
        const balance = c.theirs.reduce(
          (sum, e) => sum + (e.type === 'Deposited' ? e.data.amount : 0),
          0,
        );
        return balance >= 30 ? [{ type: 'Withdrawn', data: { amount: 30 } }] : [];
      },
    });
    expect(await b.sync.conflicts()).toEqual([]);
    await b.sync.syncNow();
    await a.sync.syncNow();
    expect(shape(await a.stream(account).read())).toEqual(shape(await b.stream(account).read()));
    expect((await a.stream(account).read()).map((e) => e.type)).toEqual(['Deposited', 'Withdrawn']);
  });

  it('discarding a conflict drops the pending events; the edge history stands', async () => {
    const { edge } = makeEdge();
    const a = replicaOn(edge);
    const b = replicaOn(edge);
    await a.stream(account).append({ type: 'Deposited', data: { amount: 1 } });
    await b.stream(account).append({ type: 'Deposited', data: { amount: 2 } });
    await a.sync.syncNow();
    await b.sync.syncNow();
    await b.sync.resolve(account, { discard: true });
    expect((await b.stream(account).read()).map((e) => [e.data, e.confirmed])).toEqual([
      [{ amount: 1 }, true],
    ]);
    expect(await b.sync.status()).toMatchObject({ pending: 0, conflicts: 0 });
  });

  it('a lost response is retried with the same sequence and nothing lands twice', async () => {
    const { edge, store: edgeStore } = makeEdge();
    const inner = createEdgeRemote(edge, principal);
    let lose = 1;
    const flaky: SyncRemote = {
      database: inner.database,
      async push(request: PushRequest) {
        const response = await inner.push(request);
        if (lose-- > 0) throw new TypeError('Failed to fetch');
        return response;
      },
      pull: (request: PullRequest) => inner.pull(request),
    };
    const kv = createMemoryKv();
    const local = replicaOn(edge, kv, flaky);
    await local.stream(account).append([
      { type: 'Opened', data: { owner: 'ann' } },
      { type: 'Deposited', data: { amount: 5 } },
    ]);
    await expect(local.sync.syncNow()).rejects.toThrow('Failed to fetch');
    expect(await local.sync.status()).toMatchObject({
      pending: 2,
      lastError: { message: 'Failed to fetch' },
    });
    // A restart: a new store over the same storage.
    const restarted = replicaOn(edge, kv, flaky);
    await restarted.sync.syncNow();
    expect(await edgeStore.stream({ database: 'acme', ...account }).version()).toBe(2);
    expect((await restarted.stream(account).read()).map((e) => e.confirmed)).toEqual([true, true]);
  });

  it('a restored copy of a replica is fenced, starts a new epoch, and duplicates nothing', async () => {
    const { edge, store: edgeStore } = makeEdge();
    const kv = createMemoryKv();
    const original = replicaOn(edge, kv);
    await original.stream(account).append({ type: 'Deposited', data: { amount: 1 } });
    // A backup taken now, with one pending event.
    const backup = createMemoryKv();
    for (const { key, value } of await kvScan(kv, {}))
      await kvCommit(backup, { puts: [{ key, value }] });
    await original.sync.syncNow();
    await original.stream(account).append({ type: 'Deposited', data: { amount: 2 } });
    await original.sync.syncNow();

    const restored = replicaOn(edge, backup);
    await restored
      .stream({ type: 'Account', id: 'new' })
      .append({ type: 'Opened', data: { owner: 'x' } });
    await restored.sync.syncNow();
    expect(await edgeStore.stream({ database: 'acme', ...account }).version()).toBe(2);
    expect(await edgeStore.stream({ database: 'acme', type: 'Account', id: 'new' }).version()).toBe(
      1,
    );
    expect((await restored.stream(account).read()).map((e) => e.data)).toEqual([
      { amount: 1 },
      { amount: 2 },
    ]);
  });

  it('an entry the edge refuses for good is rejected into the inbox; the rest syncs', async () => {
    const { edge } = makeEdge({ maxEventBytes: 64 });
    const local = replicaOn(edge);
    await local.stream(account).append({ type: 'Opened', data: { owner: 'x'.repeat(100) } });
    await local
      .stream({ type: 'Account', id: 'small' })
      .append({ type: 'Opened', data: { owner: 'y' } });
    await local.sync.syncNow();
    const [conflict] = await local.sync.conflicts();
    expect(conflict).toMatchObject({ kind: 'rejected', error: { code: 'INVALID_ARGUMENT' } });
    expect((await local.stream({ type: 'Account', id: 'small' }).read())[0]?.confirmed).toBe(true);
    await local.sync.resolve(account, { events: [{ type: 'Opened', data: { owner: 'short' } }] });
    await local.sync.syncNow();
    expect((await local.stream(account).read()).map((e) => [e.data, e.confirmed])).toEqual([
      [{ owner: 'short' }, true],
    ]);
  });

  it('a new edge (its data replaced) answers a reset once, and the replica pulls from the start', async () => {
    const first = makeEdge();
    const kv = createMemoryKv();
    const local = replicaOn(first.edge, kv);
    await local.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    await local.sync.syncNow();
    const second = makeEdge();
    const other = replicaOn(second.edge);
    await other
      .stream({ type: 'Account', id: 'elsewhere' })
      .append({ type: 'Opened', data: { owner: 'z' } });
    await other.sync.syncNow();
    // The same storage, now syncing with the new edge: its cursor names the old one.
    const pulls: PullRequest[] = [];
    const inner = createEdgeRemote(second.edge, principal);
    const watched: SyncRemote = {
      database: inner.database,
      push: (request) => inner.push(request),
      pull: (request) => {
        pulls.push(request);
        return inner.pull(request);
      },
    };
    const moved = replicaOn(second.edge, kv, watched);
    await expect(moved.sync.syncNow()).resolves.toMatchObject({ pulled: 1 });
    expect(pulls.map((p) => p.cursor?.position ?? 0)).toEqual([1, 0]);
    await expect(moved.sync.syncNow()).resolves.toMatchObject({ pulled: 0 });
    expect(pulls).toHaveLength(3);
  });

  it('an append made while a push is answered neither fails the sync nor is lost', async () => {
    const { edge, store: edgeStore } = makeEdge();
    const inner = createEdgeRemote(edge, principal);
    const storage = interposing(createMemoryKv());
    let local: ReturnType<typeof replicaOn> | undefined;
    let pushes = 0;
    const remote: SyncRemote = {
      database: inner.database,
      async push(request) {
        const response = await inner.push(request);
        // The first answer is in; the app appends before the engine records it.
        if (pushes++ === 0) {
          storage.beforeNextWrite(() =>
            local!.stream(account).append({ type: 'Deposited', data: { amount: 2 } }),
          );
        }
        return response;
      },
      pull: (request) => inner.pull(request),
    };
    local = replicaOn(edge, storage.kv, remote);
    await local.stream(account).append({ type: 'Deposited', data: { amount: 1 } });
    await expect(local.sync.syncNow()).resolves.toMatchObject({ pushed: 2 });
    expect((await local.stream(account).read()).map((e) => [e.data, e.confirmed])).toEqual([
      [{ amount: 1 }, true],
      [{ amount: 2 }, true],
    ]);
    expect(shape(await edgeStore.stream({ database: 'acme', ...account }).read())).toEqual(
      shape(await local.stream(account).read()),
    );
  });

  it('an append made while a conflict is recorded stays pending, and the next one too', async () => {
    const { edge } = makeEdge();
    const other = replicaOn(edge);
    await other.stream(account).append({ type: 'Opened', data: { owner: 'bob' } });
    await other.sync.syncNow();
    const inner = createEdgeRemote(edge, principal);
    const storage = interposing(createMemoryKv());
    let local: ReturnType<typeof replicaOn> | undefined;
    let pushes = 0;
    const remote: SyncRemote = {
      database: inner.database,
      async push(request) {
        const response = await inner.push(request);
        if (pushes++ > 0) return response;
        storage.beforeNextWrite(() =>
          local!.stream(account).append({
            type: 'Deposited',
            data: { amount: 2 },
            metadata: { messageId: 'during' },
          }),
        );
        return response;
      },
      pull: (request) => inner.pull(request),
    };
    local = replicaOn(edge, storage.kv, remote);
    const stream = local.stream(account);
    await stream.append({
      type: 'Deposited',
      data: { amount: 1 },
      metadata: { messageId: 'before' },
    });
    await local.sync.syncNow();
    // Recording the conflict must not set the stream's entry counter back: this append
    // would then take the number of the one made during the sync, and overwrite it.
    await stream.append({
      type: 'Deposited',
      data: { amount: 3 },
      metadata: { messageId: 'after' },
    });
    const [conflict] = await local.sync.conflicts();
    expect(conflict?.mine.map((e) => e.metadata.messageId)).toEqual(['before', 'during', 'after']);
    expect(await local.sync.status()).toMatchObject({ pending: 3, conflicts: 1 });
  });

  it("a stream held only lately is caught up from the start of the edge's log, not diverged", async () => {
    const { edge } = makeEdge({ maxEventBytes: 64 });
    const a = replicaOn(edge);
    const b = createSyncedStore<Ledger>({
      kv: createMemoryKv(),
      remote: createEdgeRemote(edge, { database: 'acme', user: 'bob' }),
      scope: 'held',
    });
    await a.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    await a.sync.syncNow();
    // b holds no stream yet: its cursor passes the stream's first event.
    await b.sync.syncNow();
    // It holds the stream from now on, through an append the edge refuses (which brings
    // none of the edge's events with it).
    await b.stream(account).append({ type: 'Opened', data: { owner: 'x'.repeat(100) } });
    await b.sync.syncNow();
    await a.stream(account).append({ type: 'Deposited', data: { amount: 5 } });
    await a.sync.syncNow();
    // The pull brings version 2 only; version 1 is fetched, not taken for a divergence.
    await expect(b.sync.syncNow()).resolves.toMatchObject({ pulled: 2 });
    expect((await b.sync.conflicts()).map((c) => c.kind)).toEqual(['rejected']);
    const read = await b.stream(account).read();
    expect(read.filter((e) => e.confirmed).map((e) => e.type)).toEqual(['Opened', 'Deposited']);
    expect(shape(read.filter((e) => e.confirmed))).toEqual(shape(await a.stream(account).read()));
  });

  it('survives a reload on IndexedDB: pending events persist, then sync', async () => {
    const { edge } = makeEdge();
    const name = `sync-${Math.random()}`;
    const before = replicaOn(edge, createIndexedDbKv({ name }));
    await before.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    const after = replicaOn(edge, createIndexedDbKv({ name }));
    expect((await after.stream(account).read()).map((e) => e.confirmed)).toEqual([false]);
    await after.sync.syncNow();
    expect((await after.stream(account).read()).map((e) => e.confirmed)).toEqual([true]);
  });

  it('local appends check expected versions against confirmed plus pending events', async () => {
    const { edge } = makeEdge();
    const local = replicaOn(edge);
    const stream = local.stream(account);
    await stream.append({ type: 'Opened', data: { owner: 'ann' } });
    const error = await stream
      .append({ type: 'Deposited', data: { amount: 1 } }, { expectedVersion: 0 })
      .catch((e) => e);
    expect(isVersionMismatchError(error)).toBe(true);
    expect(error).toMatchObject({ expected: 0, actual: 1 });
    // A retried append (same message ids) is deduplicated.
    const event = {
      type: 'Deposited' as const,
      data: { amount: 2 },
      metadata: { messageId: 'm-2' },
    };
    await stream.append(event);
    await expect(stream.append(event)).resolves.toMatchObject({ version: 2, deduplicated: true });
    await local.sync.syncNow();
    await expect(stream.append(event)).resolves.toMatchObject({ version: 2, deduplicated: true });
    expect(await stream.versionOf('m-2')).toBe(2);
  });
});

describe('an append racing a sync', () => {
  it('that confirms its stream between reading the copy and the outbox is not refused for a version that never was', async () => {
    const { edge } = makeEdge();
    const kv = createMemoryKv();
    let local: ReturnType<typeof replicaOn> | undefined;
    let armed = false;
    // The sync's commit (pending events moved into the copy) lands just after the append
    // has read the copy's head and before it reads the stream's outbox state.
    const racing: Kv = {
      capabilities: kv.capabilities,
      async read(keys, then) {
        if (armed && keys.some((k) => k.startsWith('#sync/s/'))) {
          armed = false;
          await local!.sync.syncNow();
        }
        return kv.read(keys, then);
      },
      write: (keys, plan) => kv.write(keys, plan),
    };
    local = replicaOn(edge, racing);
    const stream = local.stream(account);
    await stream.append({ type: 'Opened', data: { owner: 'ann' } });
    armed = true;
    await expect(
      stream.append({ type: 'Deposited', data: { amount: 1 } }, { expectedVersion: 1 }),
    ).resolves.toMatchObject({ version: 2 });
    expect(armed).toBe(false); // the race did happen
    expect((await stream.read()).map((e) => [e.version, e.confirmed])).toEqual([
      [1, true],
      [2, false],
    ]);
  });
});

describe('reads of a synced stream', () => {
  it('answer every range as the whole stream sliced, reading only the outbox entries they reach', async () => {
    const { edge } = makeEdge();
    const kv = createMemoryKv();
    let outboxRows = 0;
    const counting: Kv = {
      capabilities: kv.capabilities,
      async read(keys, then) {
        let outbox = false;
        const read = await kv.read(
          keys,
          then &&
            ((values) => {
              const range = then(values);
              outbox = range?.prefix?.startsWith('#sync/o/') === true;
              return range;
            }),
        );
        if (outbox) outboxRows += read.entries.length;
        return read;
      },
      write: (keys, plan) => kv.write(keys, plan),
    };
    const local = replicaOn(edge, counting);
    const stream = local.stream(account);
    await stream.append({ type: 'Opened', data: { owner: 'ann' } });
    await stream.append({ type: 'Deposited', data: { amount: 1 } });
    await local.sync.syncNow(); // versions 1-2 confirmed
    await stream.append({ type: 'Deposited', data: { amount: 2 } });
    await stream.append([
      { type: 'Deposited', data: { amount: 3 } },
      { type: 'Withdrawn', data: { amount: 1 } },
    ]);
    await stream.append({ type: 'Deposited', data: { amount: 4 } });
    for (let i = 0; i < 20; i++) await stream.append({ type: 'Deposited', data: { amount: 5 } });

    const all = await stream.read();
    expect(all.map((e) => [e.version, e.confirmed])).toEqual(
      Array.from({ length: 26 }, (_, i) => [i + 1, i < 2]),
    );
    const key = (events: readonly { version: number; type: string }[]) =>
      events.map((e) => `${e.version}${e.type}`);
    for (const from of [1, 2, 3, 4, 5, 6, 26]) {
      for (const to of [undefined, 2, 4, 5, 26]) {
        if (to !== undefined && to < from) continue;
        for (const limit of [undefined, 1, 2, 3]) {
          for (const direction of ['forward', 'backward'] as const) {
            const inRange = all.filter(
              (e) => e.version >= from && (to === undefined || e.version <= to),
            );
            const ordered = direction === 'backward' ? [...inRange].reverse() : inRange;
            const expected = limit === undefined ? ordered : ordered.slice(0, limit);
            const options = {
              from,
              direction,
              ...(to === undefined ? {} : { to }),
              ...(limit === undefined ? {} : { limit }),
            };
            expect(key(await stream.read(options)), JSON.stringify(options)).toEqual(key(expected));
          }
        }
      }
    }

    // The first event of a stream (a list showing what an account was opened with), and a
    // slice of the confirmed part, read no more of the outbox than they need.
    outboxRows = 0;
    await stream.read({ limit: 1 });
    await stream.read({ to: 2 });
    expect(outboxRows).toBe(0);
    await stream.read({ from: 3, limit: 1 });
    expect(outboxRows).toBe(1);
  });
});

describe('the live tail of a synced stream', () => {
  const until = async (done: () => boolean) => {
    for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(done()).toBe(true);
  };

  it('delivers pending events, then rewinds when a conflict replaces them', async () => {
    const { edge } = makeEdge();
    const a = replicaOn(edge);
    const b = replicaOn(edge);
    const seen: [number, string, boolean][] = [];
    const rewinds: number[] = [];
    const stop = b
      .stream(account)
      .subscribe(
        (events) =>
          seen.push(
            ...events.map((e) => [e.version, e.type, e.confirmed] as [number, string, boolean]),
          ),
        { from: 1, pollIntervalMs: 10, onRewind: (version) => rewinds.push(version) },
      );
    try {
      await b.stream(account).append({ type: 'Withdrawn', data: { amount: 1 } });
      await until(() => seen.length === 1);
      expect(seen).toEqual([[1, 'Withdrawn', false]]);
      await a.stream(account).append({ type: 'Deposited', data: { amount: 9 } });
      await a.sync.syncNow();
      await b.sync.syncNow(); // conflict: the edge's Deposited takes version 1
      await until(() => rewinds.length === 1);
      expect(rewinds).toEqual([1]);
      await until(() => seen.length >= 3);
      expect(seen.slice(1)).toEqual([
        [1, 'Deposited', true],
        [2, 'Withdrawn', false],
      ]);
      await b.sync.resolve(account, { discard: true });
      await until(() => rewinds.length === 2);
      expect(rewinds).toEqual([1, 2]);
      // Confirmed events are never rewound; accepted pending ones stay as delivered.
      await b.stream(account).append({ type: 'Withdrawn', data: { amount: 2 } });
      await until(() => seen.length === 4);
      await b.sync.syncNow();
      await new Promise((r) => setTimeout(r, 50));
      expect(rewinds).toEqual([1, 2]);
      expect(seen.at(-1)).toEqual([2, 'Withdrawn', false]);
    } finally {
      stop();
    }
  });
});
