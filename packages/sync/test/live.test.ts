import { createMemoryKv, type Kv } from '@eventkv/core';
import { kvGet } from '@eventkv/core/kv';
import { createReplica } from '@eventkv/core/replica';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createEdgeRemote,
  createLiveConnection,
  createSyncEdge,
  createSyncedStore,
  type LiveConnection,
  type LiveConnectionOptions,
  type LiveState,
  type NetworkWatch,
  type SyncCursor,
  type SyncRemote,
  type WaitRequest,
} from '../src/index.js';
import { META_KEY } from '../src/keys.js';
import { PING, POKE, PONG } from '../src/protocol.js';
import type { LiveSocket, LiveSocketEvent } from '../src/remote.js';

const principal = { database: 'acme', user: 'ann' };
const account = { type: 'Account', id: '42' };

/** A socket whose edge side the test plays: accept, send, drop. */
class FakeSocket implements LiveSocket {
  readyState = 0;
  readonly sent: string[] = [];
  closedByClient: { code?: number | undefined } | undefined;
  readonly #listeners = new Map<string, Set<(event: LiveSocketEvent) => void>>();

  constructor(readonly pong: boolean) {}

  addEventListener(type: string, listener: (event: LiveSocketEvent) => void): void {
    const set = this.#listeners.get(type) ?? new Set();
    set.add(listener);
    this.#listeners.set(type, set);
  }

  #dispatch(type: string, event: LiveSocketEvent = {}) {
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(data);
    if (data === PING && this.pong) queueMicrotask(() => this.receive(PONG));
  }

  close(code?: number): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closedByClient = { code };
    queueMicrotask(() => this.#dispatch('close', { code: code ?? 1005 }));
  }

  accept() {
    this.readyState = 1;
    this.#dispatch('open');
  }

  receive(data: string) {
    if (this.readyState === 1) this.#dispatch('message', { data });
  }

  /** The edge (or the network) ends it. */
  drop(code = 1006) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.#dispatch('close', { code });
  }
}

const makeEdge = () => createSyncEdge({ replica: createReplica({ kv: createMemoryKv() }) });
type Edge = ReturnType<typeof makeEdge>;

interface SocketRemoteOptions {
  /** Offer the long-poll too. */
  readonly wait?: boolean;
  /** Sockets answer pings (default true). */
  readonly pong?: boolean;
  /** Whether the next socket fails to open (default: none does). */
  readonly refuse?: () => boolean;
  /** The edge pokes a socket as soon as it opens (default true, as the protocol says). */
  readonly pokeOnOpen?: boolean;
}

/**
 * The in-process edge with a live socket as the Worker serves it: a fresh token per
 * socket, a poke right after it opens and whenever the edge's log grows.
 */
const socketRemote = (edge: Edge, options: SocketRemoteOptions = {}) => {
  const base = createEdgeRemote(edge, principal);
  const sockets: FakeSocket[] = [];
  const tokens: string[] = [];
  const opened: number[] = [];
  const waits: { request: WaitRequest; signal: AbortSignal | undefined }[] = [];
  let issued = 0;
  const remote: SyncRemote = {
    database: base.database,
    push: (request) => base.push(request),
    pull: (request) => base.pull(request),
    ...(options.wait
      ? {
          wait: (request: WaitRequest, signal?: AbortSignal) => {
            waits.push({ request, signal });
            return (base.wait as NonNullable<SyncRemote['wait']>)(request, signal);
          },
        }
      : {}),
    async openSocket() {
      tokens.push(`token-${++issued}`);
      opened.push(Date.now());
      if (options.refuse?.()) throw new Error('the upgrade was refused');
      const socket = new FakeSocket(options.pong ?? true);
      sockets.push(socket);
      const off = edge.onChange(() => socket.receive(POKE));
      socket.addEventListener('close', () => off());
      // Opened by the network later, as a WebSocket is.
      setImmediate(() => {
        socket.accept();
        if (options.pokeOnOpen ?? true) socket.receive(POKE);
      });
      return socket;
    },
  };
  return { remote, sockets, tokens, opened, waits };
};

/** Runs every pending microtask (the memory KV and the edge in process use nothing else). */
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};
const advance = async (ms: number) => {
  await vi.advanceTimersByTimeAsync(ms);
  await flush();
};

/** A device that says online or offline, and fires the events. */
const fakeNetwork = (online = true) => {
  const events = new EventTarget();
  const network: NetworkWatch & { set(value: boolean): void } = {
    online: () => online,
    events: events as unknown as NetworkWatch['events'],
    set(value) {
      online = value;
      events.dispatchEvent(new Event(value ? 'online' : 'offline'));
    },
  };
  return network;
};

/** A replica whose sync the live connection drives, and its cursor read as the agent does. */
const replicaOn = (remote: SyncRemote, kv: Kv = createMemoryKv()) => {
  const store = createSyncedStore({ kv, remote });
  const cursor = async () => {
    const [meta] = await kvGet(kv, [META_KEY]);
    return (meta as { cursor?: SyncCursor } | undefined)?.cursor;
  };
  return { store, kv, cursor };
};

const connections: LiveConnection[] = [];
const connect = (remote: SyncRemote, options: Partial<LiveConnectionOptions> = {}) => {
  const states: LiveState[] = [];
  const pokes = { count: 0 };
  const live = createLiveConnection(remote, {
    cursor: () => undefined,
    onPoke: () => {
      pokes.count++;
    },
    onState: (state) => states.push(state),
    network: fakeNetwork(),
    ...options,
  });
  connections.push(live);
  return { live, states, pokes };
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(() => {
  for (const live of connections.splice(0)) live.close();
  vi.useRealTimers();
});

describe('the live connection', () => {
  it('reconnects after a close with growing, fully jittered delays, reset by an open', async () => {
    // The first socket opens, the next two fail to open, then they open again.
    const outcomes = [false, true, true, false, false];
    const { remote, sockets, opened } = socketRemote(makeEdge(), {
      refuse: () => outcomes.shift() ?? false,
    });
    const draws = [0.9, 0.25, 0.5, 0.75];
    const random = () => draws.shift() ?? 0.5;
    const { live, states } = connect(remote, {
      random,
      backoff: { baseDelayMs: 1000, maxDelayMs: 30_000 },
    });
    await flush();
    expect(live.state).toBe('live');

    sockets[0]!.drop();
    expect(live.state).toBe('connecting');
    // Uniform in [0, 1000), then [0, 2000), then [0, 4000): 0.9, 0.25 and 0.5 of them.
    await advance(899);
    expect(opened).toHaveLength(1);
    await advance(1);
    expect(opened).toHaveLength(2);
    await advance(499);
    expect(opened).toHaveLength(2);
    await advance(1);
    expect(opened).toHaveLength(3);
    await advance(1999);
    expect(opened).toHaveLength(3);
    await advance(1);
    expect(opened).toHaveLength(4);
    expect(live.state).toBe('live');

    // The open reset the backoff: the next drop waits at most a second again (0.75 of it).
    sockets[1]!.drop();
    await advance(749);
    expect(opened).toHaveLength(4);
    await advance(1);
    expect(opened).toHaveLength(5);
    expect(live.state).toBe('live');
    expect(states).toEqual(['connecting', 'live', 'connecting', 'live', 'connecting', 'live']);
  });

  it('takes a socket that answers no ping for dead and opens another', async () => {
    const { remote, sockets } = socketRemote(makeEdge(), { pong: false });
    const { live } = connect(remote, {
      heartbeatMs: 30_000,
      pongTimeoutMs: 10_000,
      random: () => 0,
    });
    await flush();
    expect(live.state).toBe('live');
    await advance(29_999);
    expect(sockets[0]!.sent).toEqual([]);
    await advance(1);
    expect(sockets[0]!.sent).toEqual([PING]);
    await advance(9_999);
    expect(sockets).toHaveLength(1);
    await advance(1);
    await advance(1); // the backoff drawn at 0 (a timer of 0 ms runs after 1)
    // Closed from this side (a half-open connection may never say so itself), then replaced.
    expect(sockets[0]!.closedByClient).toBeDefined();
    expect(sockets).toHaveLength(2);
    expect(live.state).toBe('live');
  });

  it('keeps a socket that answers its pings, and a message puts the next ping off', async () => {
    const { remote, sockets } = socketRemote(makeEdge());
    const { live } = connect(remote, { heartbeatMs: 30_000, pongTimeoutMs: 10_000 });
    await flush();
    await advance(20_000);
    sockets[0]!.receive(POKE);
    await advance(29_999);
    expect(sockets[0]!.sent).toEqual([]);
    await advance(1);
    expect(sockets[0]!.sent).toEqual([PING]);
    await advance(120_000);
    expect(sockets).toHaveLength(1);
    expect(sockets[0]!.sent.length).toBeGreaterThan(3);
    expect(live.state).toBe('live');
  });

  it('reconnects at once with a fresh token when the edge closes for an expired one (4001)', async () => {
    const { remote, sockets, tokens } = socketRemote(makeEdge());
    const { live } = connect(remote, { random: () => 0.5 });
    await flush();
    sockets[0]!.drop(4001);
    await flush();
    expect(tokens).toEqual(['token-1', 'token-2']);
    expect(live.state).toBe('live');

    // Closed so again straight away (the app's token is no fresher): now it backs off.
    sockets[1]!.drop(4001);
    await flush();
    expect(tokens).toHaveLength(2);
    expect(live.state).toBe('connecting');
    await advance(500);
    expect(tokens).toEqual(['token-1', 'token-2', 'token-3']);
    expect(live.state).toBe('live');
  });

  it('long-polls when sockets keep failing to open, and goes back to the socket later', async () => {
    const edge = makeEdge();
    let refuse = true;
    const { remote, sockets, waits } = socketRemote(edge, { wait: true, refuse: () => refuse });
    const { store, cursor } = replicaOn(remote);
    const { live, states } = connect(remote, {
      cursor,
      onPoke: () => store.sync.syncNow().then(() => {}),
      random: () => 0,
      socketFailuresBeforePolling: 3,
      socketRetryMs: 120_000,
    });
    // Three refusals, each retried after a backoff drawn at 0.
    for (let i = 0; i < 3; i++) await advance(1);
    expect(live.state).toBe('polling');
    expect(states).toEqual(['connecting', 'polling']);
    expect(sockets).toHaveLength(0);
    // The first long-poll had no cursor (answered at once: pull); the next waits from it.
    expect(waits[0]!.request.cursor).toBeUndefined();
    const waiting = waits.at(-1)!;
    expect(waiting.request.cursor).toEqual(await cursor());
    expect(waiting.request.cursor).toBeDefined();

    // Another device pushes: the long-poll answers and the replica pulls.
    const other = replicaOn(createEdgeRemote(edge, principal));
    await other.store.stream(account).append({ type: 'Opened', data: { owner: 'bob' } });
    await other.store.sync.syncNow();
    await flush();
    expect((await store.stream(account).read()).map((e) => e.type)).toEqual(['Opened']);
    expect(waits.length).toBeGreaterThan(2);

    // Later the socket is tried again; it opens now, and the long-poll stops.
    refuse = false;
    await advance(120_000);
    expect(live.state).toBe('live');
    expect(sockets).toHaveLength(1);
    expect(waits.at(-1)!.signal?.aborted).toBe(true);
  });

  it('long-polls from the replica cursor when the remote has no socket', async () => {
    const edge = makeEdge();
    const base = createEdgeRemote(edge, principal);
    const asked: WaitRequest[] = [];
    const remote: SyncRemote = {
      database: base.database,
      push: base.push,
      pull: base.pull,
      wait: (request, signal) => {
        asked.push(request);
        return (base.wait as NonNullable<SyncRemote['wait']>)(request, signal);
      },
    };
    const { store, cursor } = replicaOn(remote);
    const { live } = connect(remote, {
      cursor,
      onPoke: () => store.sync.syncNow().then(() => {}),
      waitTimeoutMs: 20_000,
    });
    await flush();
    expect(live.state).toBe('polling');
    const count = asked.length;
    // Nothing new: each long-poll is held for its timeout, then the next is sent.
    await advance(19_999);
    expect(asked).toHaveLength(count);
    await advance(1);
    expect(asked).toHaveLength(count + 1);
    expect(asked.at(-1)).toMatchObject({ cursor: await cursor(), timeoutMs: 20_000 });
  });

  it.each([
    ['pokes a socket as it opens', true],
    ['does not poke a new socket', false],
  ])('misses nothing across a reconnect, when the edge %s', async (_, pokeOnOpen) => {
    const edge = makeEdge();
    const { remote, sockets } = socketRemote(edge, { pokeOnOpen });
    const { store } = replicaOn(remote);
    connect(remote, { onPoke: () => store.sync.syncNow().then(() => {}), random: () => 0.5 });
    await flush();
    sockets[0]!.drop();

    // While it is disconnected, another device pushes: no poke reaches this replica.
    const other = replicaOn(createEdgeRemote(edge, principal));
    await other.store.stream(account).append({ type: 'Opened', data: { owner: 'bob' } });
    await other.store.sync.syncNow();
    await flush();
    expect(await store.stream(account).read()).toEqual([]);

    await advance(500);
    expect(sockets).toHaveLength(2);
    expect((await store.stream(account).read()).map((e) => [e.type, e.confirmed])).toEqual([
      ['Opened', true],
    ]);
  });

  it('without a cursor to wait from, paces its long-polls with a growing pause', async () => {
    const base = createEdgeRemote(makeEdge(), principal);
    const asked: WaitRequest[] = [];
    const remote: SyncRemote = {
      database: base.database,
      push: base.push,
      pull: base.pull,
      wait: (request, signal) => {
        asked.push(request);
        return (base.wait as NonNullable<SyncRemote['wait']>)(request, signal);
      },
    };
    // Each long-poll is answered at once ("changed") and the cursor never moves.
    const { pokes } = connect(remote, { random: () => 0.5 });
    await flush();
    expect(asked).toHaveLength(1);
    expect(pokes.count).toBe(1);
    // 0.5 of [0, 1000), [0, 2000), [0, 4000): 500, 1000, 2000 ms apart.
    await advance(499);
    expect(asked).toHaveLength(1);
    await advance(1);
    expect(asked).toHaveLength(2);
    await advance(999);
    expect(asked).toHaveLength(2);
    await advance(1);
    expect(asked).toHaveLength(3);
    await advance(2000);
    expect(asked).toHaveLength(4);
    expect(asked.every((request) => request.cursor === undefined)).toBe(true);
  });

  it('pokes on the edge reach onPoke', async () => {
    const { remote, sockets } = socketRemote(makeEdge());
    const { pokes } = connect(remote);
    await flush();
    const before = pokes.count;
    sockets[0]!.receive(POKE);
    sockets[0]!.receive(PONG);
    sockets[0]!.receive('{"type":"poke"}');
    expect(pokes.count).toBe(before + 2);
  });

  it('goes quiet while offline and reconnects at once when the device is back', async () => {
    const network = fakeNetwork(false);
    const { remote, sockets } = socketRemote(makeEdge());
    const { live } = connect(remote, { network });
    await advance(600_000);
    expect(live.state).toBe('offline');
    expect(sockets).toHaveLength(0);

    network.set(true);
    await flush();
    expect(live.state).toBe('live');
    expect(sockets).toHaveLength(1);

    network.set(false);
    await flush();
    expect(live.state).toBe('offline');
    expect(sockets[0]!.closedByClient).toBeDefined();
    await advance(600_000);
    expect(sockets).toHaveLength(1);
  });

  it('is off without a socket or a long-poll, and close() leaves nothing behind', async () => {
    const base = createEdgeRemote(makeEdge(), principal);
    const { live: none } = connect({ database: 'acme', push: base.push, pull: base.pull });
    expect(none.state).toBe('off');

    const { remote, sockets } = socketRemote(makeEdge());
    const { live, states } = connect(remote);
    await flush();
    live.close();
    expect(live.state).toBe('off');
    expect(states.at(-1)).toBe('off');
    expect(sockets[0]!.closedByClient).toBeDefined();
    expect(vi.getTimerCount()).toBe(0);
    await advance(600_000);
    expect(sockets).toHaveLength(1);
  });
});
