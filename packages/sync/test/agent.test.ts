import { createMemoryKv, type Kv } from '@eventkv/core';
import { createReplica } from '@eventkv/core/replica';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ChannelPort,
  createEdgeRemote,
  createSyncEdge,
  createSyncedStore,
  type EventTargetLike,
  type LockManagerLike,
  platformEnvironment,
  type StorageLike,
  type SyncAgent,
  type SyncAgentEnvironment,
  type SyncAgentEvent,
  type SyncAgentOptions,
  type SyncRemote,
  startSync,
} from '../src/index.js';
import type { LiveSocket } from '../src/remote.js';

const principal = { database: 'acme', user: 'ann' };
const account = { type: 'Account', id: '42' };

/** An event target that counts its listeners (to see that `stop()` removes them). */
class Target implements EventTargetLike {
  readonly #target = new EventTarget();
  listeners = 0;
  addEventListener(type: string, listener: () => void) {
    this.listeners++;
    this.#target.addEventListener(type, listener);
  }
  removeEventListener(type: string, listener: () => void) {
    this.listeners--;
    this.#target.removeEventListener(type, listener);
  }
  fire(type: string) {
    this.#target.dispatchEvent(new Event(type));
  }
}

/** Web Locks in one process: exclusive, granted in request order, abortable while waiting. */
const fakeLocks = () => {
  type Entry = {
    callback: (lock: unknown) => Promise<void>;
    resolve: (value: unknown) => void;
    reject: (error: unknown) => void;
  };
  const queues = new Map<string, Entry[]>();
  const holders = new Map<string, Entry>();
  const pump = (name: string) => {
    if (holders.has(name)) return;
    const next = queues.get(name)?.shift();
    if (next === undefined) return;
    holders.set(name, next);
    Promise.resolve()
      .then(() => next.callback({ name }))
      .then(next.resolve, next.reject)
      .finally(() => {
        holders.delete(name);
        pump(name);
      });
  };
  const locks: LockManagerLike & { held(name: string): boolean; waiting(name: string): number } = {
    request: (name, options, callback) =>
      new Promise((resolve, reject) => {
        const entry: Entry = { callback, resolve, reject };
        const queue = queues.get(name) ?? [];
        queues.set(name, queue);
        if (options.signal?.aborted) return reject(new DOMException('aborted', 'AbortError'));
        options.signal?.addEventListener('abort', () => {
          const at = queue.indexOf(entry);
          if (at < 0) return;
          queue.splice(at, 1);
          reject(new DOMException('aborted', 'AbortError'));
        });
        queue.push(entry);
        pump(name);
      }),
    held: (name) => holders.has(name),
    waiting: (name) => queues.get(name)?.length ?? 0,
  };
  return locks;
};

/** BroadcastChannel in one process: each message cloned, delivered to the other ports later. */
const channelHub = () => {
  const ports = new Set<{ name: string; deliver: (data: unknown) => void }>();
  return (name: string): ChannelPort => {
    const listeners = new Set<(event: { data: unknown }) => void>();
    const self = {
      name,
      deliver: (data: unknown) => {
        for (const listener of listeners) listener({ data });
      },
    };
    ports.add(self);
    return {
      postMessage(message) {
        const data = structuredClone(message);
        for (const port of ports) {
          if (port !== self && port.name === name) queueMicrotask(() => port.deliver(data));
        }
      },
      addEventListener: (_type, listener) => listeners.add(listener),
      close: () => ports.delete(self),
    };
  };
};

const makeEdge = () => createSyncEdge({ replica: createReplica({ kv: createMemoryKv() }) });
type Edge = ReturnType<typeof makeEdge>;

const networkFailure = () =>
  Object.assign(new Error('sync push: the request failed'), { code: 'NETWORK_FAILURE' });

/** The edge in process, counting what this tab sends, failing while `down`. */
const countingRemote = (edge: Edge, options: { socket?: boolean } = {}) => {
  const base = createEdgeRemote(edge, principal);
  const counts = { push: 0, pull: 0, sockets: 0 };
  const state = { down: false };
  const remote: SyncRemote = {
    database: base.database,
    async push(request) {
      counts.push++;
      if (state.down) throw networkFailure();
      return base.push(request);
    },
    async pull(request) {
      counts.pull++;
      if (state.down) throw networkFailure();
      return base.pull(request);
    },
    ...(options.socket
      ? {
          async openSocket(): Promise<LiveSocket> {
            counts.sockets++;
            return {
              readyState: 1,
              send: () => {},
              close: () => {},
              addEventListener: () => {},
            };
          },
        }
      : {}),
  };
  return { remote, counts, state };
};

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};
const advance = async (ms: number) => {
  await vi.advanceTimersByTimeAsync(ms);
  await flush();
};

interface World {
  readonly edge: Edge;
  /** One local database, shared by the tabs (IndexedDB is, across the tabs of an origin). */
  readonly kv: Kv;
  readonly locks: ReturnType<typeof fakeLocks>;
  readonly channel: (name: string) => ChannelPort;
  readonly network: Target & { online: boolean };
  readonly document: Target & { visible: boolean };
}

const makeWorld = (): World => ({
  edge: makeEdge(),
  kv: createMemoryKv(),
  locks: fakeLocks(),
  channel: channelHub(),
  network: Object.assign(new Target(), { online: true }),
  document: Object.assign(new Target(), { visible: true }),
});

const agents: SyncAgent[] = [];

/** A tab: its own store over the shared database, its own remote, an agent. */
const openTab = (
  world: World,
  options: {
    environment?: Partial<SyncAgentEnvironment>;
    socket?: boolean;
    agent?: SyncAgentOptions;
  } = {},
) => {
  const { remote, counts, state } = countingRemote(world.edge, { socket: options.socket ?? false });
  const store = createSyncedStore({ kv: world.kv, remote });
  const heard: SyncAgentEvent[] = [];
  const agent = startSync(store, {
    name: 'ledger',
    intervalMs: 60_000,
    ...options.agent,
    environment: {
      locks: world.locks,
      channel: world.channel,
      random: () => 0.5,
      network: { online: () => world.network.online, events: world.network },
      visibility: { visible: () => world.document.visible, events: world.document },
      storage: undefined,
      backgroundSync: undefined,
      ...options.environment,
    },
  });
  agent.on((event) => heard.push(event));
  agents.push(agent);
  return { store, agent, counts, remote: state, heard };
};

/** Another device on the same edge (its own local database). */
const otherDevice = (edge: Edge) =>
  createSyncedStore({ kv: createMemoryKv(), remote: createEdgeRemote(edge, principal) });

const setOnline = (world: World, online: boolean) => {
  world.network.online = online;
  world.network.fire(online ? 'online' : 'offline');
};

const edgeEvents = async (edge: Edge) => {
  const probe = otherDevice(edge);
  await probe.sync.syncNow();
  return (await probe.stream(account).read()).map((e) => e.type);
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
  vi.useRealTimers();
});

describe('the sync agent', () => {
  it('one tab leads and keeps the live connection; when it stops, another takes over', async () => {
    const world = makeWorld();
    const a = openTab(world, { socket: true });
    const b = openTab(world, { socket: true });
    await flush();
    expect([a.agent.role, b.agent.role]).toEqual(['leader', 'follower']);
    expect(world.locks.held('ledger')).toBe(true);
    expect([a.counts.sockets, b.counts.sockets]).toEqual([1, 0]);
    expect(await b.agent.status()).toMatchObject({ role: 'follower', connection: 'live' });

    await a.agent.stop();
    await flush();
    expect(b.agent.role).toBe('leader');
    expect(b.counts.sockets).toBe(1);
    expect(await b.agent.status()).toMatchObject({ role: 'leader', connection: 'live' });

    // The new leader syncs what the tabs append.
    await b.store.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    await advance(50);
    expect(await edgeEvents(world.edge)).toEqual(['Opened']);
  });

  it('followers hear the same status and sync events as the leader', async () => {
    const world = makeWorld();
    const a = openTab(world);
    const b = openTab(world);
    await flush();
    // Another device wrote the stream first: this tab's append at version 0 conflicts.
    const other = otherDevice(world.edge);
    await other.stream(account).append({ type: 'Opened', data: { owner: 'bob' } });
    await other.sync.syncNow();
    await b.store
      .stream(account)
      .append({ type: 'Opened', data: { owner: 'ann' } }, { expectedVersion: 0 });
    await advance(50);
    await flush();

    for (const tab of [a, b]) {
      const types = tab.heard.map((e) => e.type);
      expect(types).toContain('conflict');
      expect(types).toContain('synced');
    }
    const conflictOf = (heard: SyncAgentEvent[]) =>
      heard.find((e) => e.type === 'conflict') as Extract<SyncAgentEvent, { type: 'conflict' }>;
    expect(conflictOf(b.heard).conflict).toEqual(conflictOf(a.heard).conflict);
    expect(conflictOf(b.heard).conflict).toMatchObject({ kind: 'conflict', base: 0 });

    const statusOf = (heard: SyncAgentEvent[]) =>
      heard.filter((e) => e.type === 'status').at(-1) as Extract<
        SyncAgentEvent,
        { type: 'status' }
      >;
    const [leaderSaw, followerSaw] = [statusOf(a.heard).status, statusOf(b.heard).status];
    expect(leaderSaw).toMatchObject({ role: 'leader', conflicts: 1, pending: 1, syncing: false });
    expect({ ...followerSaw, role: 'leader' }).toEqual(leaderSaw);
    const [leaderNow, followerNow] = [await a.agent.status(), await b.agent.status()];
    expect({ ...followerNow, role: 'leader' }).toEqual(leaderNow);
    expect(leaderNow.lastSuccessAt).toBeDefined();
  });

  it("runs a follower's syncNow in the leader and hands back its outcome", async () => {
    const world = makeWorld();
    const a = openTab(world);
    const b = openTab(world);
    await flush();
    const before = { ...a.counts };
    await b.store.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    await expect(b.agent.syncNow()).resolves.toEqual({ pushed: 1, pulled: 0 });
    expect(a.counts.push).toBeGreaterThan(before.push);
    expect(b.counts).toMatchObject({ push: 0, pull: 0 });

    // The leader's failure reaches the follower as it was.
    a.remote.down = true;
    const failed = b.agent.syncNow();
    await expect(failed).rejects.toMatchObject({
      code: 'NETWORK_FAILURE',
      message: 'sync push: the request failed',
    });
    expect(b.counts).toMatchObject({ push: 0, pull: 0 });
  });

  it('a follower runs its syncNow itself when no leader answers in time', async () => {
    const world = makeWorld();
    // The leader's messages go nowhere: another hub.
    const a = openTab(world, { environment: { channel: channelHub() } });
    const b = openTab(world, { agent: { leaderTimeoutMs: 2000 } });
    await flush();
    expect([a.agent.role, b.agent.role]).toEqual(['leader', 'follower']);
    let outcome: unknown;
    void b.agent.syncNow().then((value) => {
      outcome = value;
    });
    await advance(1999);
    expect(outcome).toBeUndefined();
    expect(b.counts.pull).toBe(0);
    await advance(1);
    expect(outcome).toEqual({ pushed: 0, pulled: 0 });
    expect(b.counts.pull).toBe(1);
  });

  it('syncs after local appends in any tab, appends close together in one run', async () => {
    const world = makeWorld();
    const a = openTab(world);
    const b = openTab(world);
    await advance(50); // the new leader's first run
    const pushes = a.counts.push;
    for (const n of [1, 2, 3]) {
      await a.store.stream(account).append({ type: 'Deposited', data: { amount: n } });
    }
    await advance(49);
    expect(a.counts.push).toBe(pushes);
    await advance(1);
    expect(a.counts.push).toBe(pushes + 1);
    expect((await a.agent.status()).pending).toBe(0);

    // A follower's append is forwarded: the leader pushes it.
    await b.store.stream(account).append({ type: 'Withdrawn', data: { amount: 1 } });
    await advance(50);
    expect(a.counts.push).toBe(pushes + 2);
    expect(b.counts.push).toBe(0);
    expect((await edgeEvents(world.edge)).length).toBe(4);
  });

  it('pushes what settling a conflict left pending, in any tab, without waiting for the period', async () => {
    const world = makeWorld();
    const a = openTab(world);
    const b = openTab(world);
    await advance(50);
    await a.store.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    await advance(50);
    // Another device moves the stream; this one appends on what it saw: a conflict.
    const other = otherDevice(world.edge);
    await other.sync.syncNow();
    await other.stream(account).append({ type: 'Deposited', data: { amount: 1 } });
    await other.sync.syncNow();
    await b.store.stream(account).append({ type: 'Withdrawn', data: { amount: 2 } });
    await advance(50);
    expect((await b.agent.status()).conflicts).toBe(1);

    // Settled in the follower: the leader pushes the re-decided events soon after.
    await b.store.sync.resolve(account, {
      rebase: () => [{ type: 'Withdrawn', data: { amount: 1 } }],
    });
    const pushes = a.counts.push;
    await advance(50);
    expect(a.counts.push).toBe(pushes + 1);
    expect(await edgeEvents(world.edge)).toEqual(['Opened', 'Deposited', 'Withdrawn']);
    expect((await b.agent.status()).pending).toBe(0);
  });

  it('syncs when the device is back online, when a page is shown again and periodically', async () => {
    const world = makeWorld();
    const a = openTab(world);
    const b = openTab(world);
    await advance(50);
    const pulls = () => a.counts.pull;
    let seen = pulls();

    setOnline(world, false);
    setOnline(world, true);
    await advance(50);
    expect(pulls()).toBe(seen + 1);
    seen = pulls();

    world.document.visible = false;
    world.document.fire('visibilitychange');
    await advance(50);
    expect(pulls()).toBe(seen);
    world.document.visible = true;
    world.document.fire('visibilitychange'); // in both tabs: the follower asks the leader
    await advance(50);
    expect(pulls()).toBe(seen + 1);
    expect(b.counts.pull).toBe(0);
    seen = pulls();

    await advance(59_000);
    expect(pulls()).toBe(seen);
    await advance(1_050);
    expect(pulls()).toBe(seen + 1);
    seen = pulls();

    // Offline: no periodic runs.
    setOnline(world, false);
    await advance(180_000);
    expect(pulls()).toBe(seen);
    expect(await a.agent.status()).toMatchObject({ online: false });
  });

  it('retries a failed run after a backoff, the events kept in the outbox', async () => {
    const world = makeWorld();
    const a = openTab(world, { agent: { retry: { baseDelayMs: 2000, maxDelayMs: 60_000 } } });
    await advance(50);
    a.remote.down = true;
    await a.store.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    await advance(50);
    const failed = await a.agent.status();
    expect(failed).toMatchObject({ pending: 1, syncing: false });
    expect(failed.lastError?.message).toContain('the request failed');
    expect(a.heard.some((e) => e.type === 'error')).toBe(true);

    // Backoff 0.5 of [0, 2000): the retry, debounced, 1050 ms later; then 0.5 of [0, 4000).
    const pushes = a.counts.push;
    await advance(1049);
    expect(a.counts.push).toBe(pushes);
    await advance(1);
    expect(a.counts.push).toBe(pushes + 1);
    a.remote.down = false;
    await advance(2049);
    expect(a.counts.push).toBe(pushes + 1);
    await advance(1);
    expect(a.counts.push).toBe(pushes + 2);
    const recovered = await a.agent.status();
    expect(recovered.pending).toBe(0);
    expect(recovered.lastSuccessAt).toBeGreaterThan(recovered.lastError!.at);
    expect(await edgeEvents(world.edge)).toEqual(['Opened']);
  });

  it('asks for persistent storage once, at the first local append, only if not granted', async () => {
    const world = makeWorld();
    let granted = false;
    const storage = {
      persisted: vi.fn(async () => granted),
      persist: vi.fn(async () => {
        granted = true;
        return true;
      }),
    } satisfies StorageLike;
    const a = openTab(world, { environment: { storage } });
    await flush();
    expect(storage.persist).not.toHaveBeenCalled();
    expect((await a.agent.status()).persisted).toBe(false);

    await a.store.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    await flush();
    await a.store.stream(account).append({ type: 'Deposited', data: { amount: 1 } });
    await flush();
    expect(storage.persist).toHaveBeenCalledTimes(1);
    expect((await a.agent.status()).persisted).toBe(true);

    // Granted already (another tab asked, or the app was installed): never asked.
    const again = {
      persisted: vi.fn(async () => true),
      persist: vi.fn(async () => true),
    } satisfies StorageLike;
    const b = openTab(makeWorld(), { environment: { storage: again } });
    await flush();
    await b.store.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    await flush();
    expect(again.persist).not.toHaveBeenCalled();
    expect((await b.agent.status()).persisted).toBe(true);
  });

  it('registers Background Sync when a run fails for lack of network with events pending', async () => {
    const world = makeWorld();
    const register = vi.fn(async (_tag: string) => {});
    const a = openTab(world, { environment: { backgroundSync: async () => ({ register }) } });
    await advance(50);
    a.remote.down = true;
    // Nothing pending: nothing for a service worker to do.
    await expect(a.agent.syncNow()).rejects.toThrow();
    expect(register).not.toHaveBeenCalled();

    await a.store.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    await advance(50);
    expect(register).toHaveBeenCalledWith('ledger');
    // Once per spell of failures.
    await expect(a.agent.syncNow()).rejects.toThrow();
    expect(register).toHaveBeenCalledTimes(1);
  });

  it('stop() releases the lock, the channel, the listeners and the timers', async () => {
    const world = makeWorld();
    const a = openTab(world, { socket: true });
    const b = openTab(world);
    await advance(50);
    let outcome: unknown;
    // A follower's request still unanswered when it stops.
    const pending = b.agent.syncNow().catch((error: unknown) => {
      outcome = error;
    });
    await b.agent.stop();
    await pending;
    expect(outcome).toBeInstanceOf(Error);
    await a.agent.stop();
    await flush();
    expect(world.locks.held('ledger')).toBe(false);
    expect(world.locks.waiting('ledger')).toBe(0);
    expect(world.network.listeners).toBe(0);
    expect(world.document.listeners).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    const heard = a.heard.length;
    const pushes = a.counts.push;
    await a.store.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    await advance(120_000);
    expect(a.heard).toHaveLength(heard);
    expect(a.counts.push).toBe(pushes);
  });

  it('runs where there are no Web Locks, no channel and no document (a worker)', async () => {
    const world = makeWorld();
    const a = openTab(world, {
      environment: { locks: undefined, channel: undefined, visibility: undefined },
    });
    expect(a.agent.role).toBe('leader');
    await a.store.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    await advance(50);
    expect(await edgeEvents(world.edge)).toEqual(['Opened']);
    expect(await a.agent.syncNow()).toEqual({ pushed: 0, pulled: 0 });
  });
});

describe('the platform environment', () => {
  it('takes only what exists: in Node, as in a worker, no Web Locks, no document, no storage', async () => {
    const platform = platformEnvironment();
    expect(platform.locks).toBeUndefined();
    expect(platform.visibility).toBeUndefined();
    expect(platform.storage).toBeUndefined();
    expect(platform.backgroundSync).toBeUndefined();
    expect(platform.network?.online()).toBe(true);
    expect(platform.channel).toBeTypeOf('function');

    // startSync with the defaults: it leads (nobody to share with) and syncs appends.
    const world = makeWorld();
    const { remote, counts } = countingRemote(world.edge);
    const store = createSyncedStore({ kv: world.kv, remote });
    const agent = startSync(store, { name: `ledger-${crypto.randomUUID()}`, intervalMs: 0 });
    agents.push(agent);
    expect(agent.role).toBe('leader');
    await store.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    await advance(50);
    expect(counts.push).toBe(1);
    expect(await agent.status()).toMatchObject({
      role: 'leader',
      connection: 'off',
      pending: 0,
      persisted: undefined,
    });
  });
});

describe('the sync agent over a real BroadcastChannel', () => {
  beforeEach(() => {
    vi.useRealTimers();
  });

  it("serves a follower's syncNow from the leader, and the follower hears its events", async () => {
    const name = `ledger-${crypto.randomUUID()}`;
    const world = {
      ...makeWorld(),
      channel: (channel: string) => new BroadcastChannel(channel) as unknown as ChannelPort,
    };
    const a = openTab(world, { agent: { name } });
    const b = openTab(world, { agent: { name, leaderTimeoutMs: 60_000 } });
    await vi.waitFor(() => expect(a.agent.role).toBe('leader'));
    expect(b.agent.role).toBe('follower');
    await b.store.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    // Resolved by a run that started after the call: the append is on the edge (pushed by
    // it, or by the run the append itself triggered in the leader).
    await expect(b.agent.syncNow()).resolves.toEqual({ pushed: expect.any(Number), pulled: 0 });
    expect(b.counts).toMatchObject({ push: 0, pull: 0 });
    expect((await b.agent.status()).pending).toBe(0);
    expect(await edgeEvents(world.edge)).toEqual(['Opened']);
    await vi.waitFor(() => expect(b.heard.map((e) => e.type)).toContain('synced'));
    await vi.waitFor(async () =>
      expect(b.heard.filter((e) => e.type === 'status').at(-1)).toMatchObject({
        status: { role: 'follower', pending: 0, lastSuccessAt: expect.any(Number) },
      }),
    );
  });
});
