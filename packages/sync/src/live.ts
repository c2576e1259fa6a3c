/**
 * The live connection of a replica to its edge: one socket that the edge pokes when its
 * log grows, kept open through drops, dead (half-open) connections and expired tokens; a
 * long-poll over `remote.wait` where there is no socket or sockets keep failing to open;
 * quiet while the device is offline.
 *
 * Written here rather than taken from npm (reconnecting-websocket, partysocket and the
 * like): each would add to the bundle of the offline demo for a loop of some hundred
 * lines; they run on their own timers and `Date.now`, so tests could not drive their
 * time; and what matters most is ours anyway: the protocol's heartbeat (`PING`/`PONG`,
 * answered without waking a hibernated object), its close code for an expired token
 * (reconnect at once, with a fresh token), the fallback to our long-poll and the way back.
 * The backoff is core's (`backoffDelay`: exponential, full jitter).
 *
 * The HTTP client's push tails (`packages/client/src/live-tail.ts`) keep their sockets by
 * the same rules in a loop of their own: one loop for both cost the client's bundle past
 * its size budget (the client's README says by how much). A change to one is made in both.
 */
import { backoffDelay, resolveRetryPolicy } from '@eventkv/core';
import {
  DEFAULT_WAIT_MS,
  LIVE_CLOSE_TOKEN_EXPIRED,
  PING,
  POKE,
  PONG,
  SYNC_PROTOCOL,
  type SyncCursor,
  type WaitResponse,
} from './protocol.js';
import type { LiveSocket, LiveSocketEvent, SyncRemote } from './remote.js';

/**
 * Where the connection is: `connecting` (opening a socket, or waiting to try again),
 * `live` (a socket is open), `polling` (long-polls), `offline` (the device says so: quiet
 * until it is back), `off` (closed, or the remote has neither a socket nor a long-poll).
 */
export type LiveState = 'connecting' | 'live' | 'polling' | 'offline' | 'off';

/** Time, injected for tests (default: the platform's `Date.now` and `setTimeout`). */
export interface Timers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

type TimerHost = {
  setTimeout?: (callback: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
};

/** The platform's timers, looked up at each call (so a test's fake timers apply). */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const host = globalThis as TimerHost;
    if (!host.setTimeout) throw new Error('eventkv: no setTimeout here; inject timers');
    return host.setTimeout(callback, ms);
  },
  clearTimeout: (handle) => (globalThis as TimerHost).clearTimeout?.(handle),
};

/** What fires `online`/`offline` (a window, a worker's global scope). */
export interface EventTargetLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/** Whether the device is online, and where it says when that changes. */
export interface NetworkWatch {
  /** `false` only when the device knows it is offline (`navigator.onLine === false`). */
  online(): boolean;
  /** Fires `online` and `offline`; absent where nothing does (Node). */
  readonly events?: EventTargetLike | undefined;
}

type NetworkHost = {
  navigator?: { onLine?: unknown };
  addEventListener?: unknown;
  removeEventListener?: unknown;
};

/** The platform's: `navigator.onLine` and the global scope's events, where they exist. */
export const globalNetwork = (): NetworkWatch => {
  const host = globalThis as NetworkHost;
  const events =
    typeof host.addEventListener === 'function' && typeof host.removeEventListener === 'function'
      ? (host as unknown as EventTargetLike)
      : undefined;
  return { online: () => (globalThis as NetworkHost).navigator?.onLine !== false, events };
};

/** The delays between attempts: exponential with full jitter, from core's retry helpers. */
export interface BackoffPolicy {
  /** The first delay's ceiling in ms (default 1000), doubled after each failure. */
  readonly baseDelayMs?: number;
  /** The longest delay in ms (default 30000). */
  readonly maxDelayMs?: number;
}

export interface LiveConnectionOptions {
  /**
   * The replica's cursor, sent with each long-poll: the edge answers when its log holds
   * events after it. `undefined` is answered at once (then each answer is followed by a
   * pause that grows, as the cursor tells nothing new).
   */
  readonly cursor: () => SyncCursor | undefined | Promise<SyncCursor | undefined>;
  /**
   * "Pull now": the edge's log grew, or a connection (re)opened and something may have
   * been missed. The long-poll waits for the promise (the sync it starts) before it asks
   * again, from the cursor that sync stored.
   */
  readonly onPoke: () => void | Promise<void>;
  /**
   * The replica's client id, sent when a socket opens: the edge spares it the pokes of its
   * own pushes.
   */
  readonly clientId?: () => string | undefined | Promise<string | undefined>;
  /** Hears each change of state. */
  readonly onState?: (state: LiveState) => void;
  /** Hears failures (a socket that would not open or died, a long-poll that failed): all retried. */
  readonly onError?: (error: unknown) => void;
  /** Reconnection delays (default 1 s doubling to 30 s, full jitter); reset by a successful open. */
  readonly backoff?: BackoffPolicy;
  /** After this long without a message, a `PING` goes out (default 30000 ms). */
  readonly heartbeatMs?: number;
  /** A socket that answers nothing this long after a `PING` is dead (default 10000 ms). */
  readonly pongTimeoutMs?: number;
  /** A socket that is not open this long after it was asked for has failed (default 15000 ms). */
  readonly openTimeoutMs?: number;
  /** Sockets that fail to open in a row before the long-poll takes over (default 3). */
  readonly socketFailuresBeforePolling?: number;
  /** While polling, the socket is tried again this often (default 120000 ms). */
  readonly socketRetryMs?: number;
  /** How long each long-poll may be held (default `DEFAULT_WAIT_MS`). */
  readonly waitTimeoutMs?: number;
  readonly timers?: Timers;
  /** A number in [0, 1) that picks each delay (default `Math.random`). */
  readonly random?: () => number;
  /** Default `globalNetwork()`. */
  readonly network?: NetworkWatch;
}

/** A running live connection. */
export interface LiveConnection {
  readonly state: LiveState;
  /** Drops what it has and connects again now, the backoff reset (e.g. after a sign-in). */
  reconnect(): void;
  /** Closes everything for good. */
  close(): void;
}

const OPEN = 1;
const CLOSE_NORMAL = 1000;

const positive = (name: string, value: unknown, fallback: number): number => {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a number of at least 0`);
  }
  return value;
};

const sameCursor = (a: SyncCursor | undefined, b: SyncCursor | undefined): boolean =>
  a?.serverId === b?.serverId && a?.position === b?.position;

/**
 * Keeps a replica told of the edge's changes: a socket through `remote.openSocket()`
 * (pokes), else long-polls through `remote.wait()`. Starts at once.
 * @example
 * const live = createLiveConnection(remote, {
 *   cursor: () => readCursor(),
 *   onPoke: () => store.sync.syncNow().then(() => {}),
 * });
 */
export const createLiveConnection = (
  remote: SyncRemote,
  options: LiveConnectionOptions,
): LiveConnection => {
  if (typeof options?.cursor !== 'function' || typeof options.onPoke !== 'function') {
    throw new TypeError('options must have cursor and onPoke functions');
  }
  const timers = options.timers ?? systemTimers;
  const random = options.random ?? Math.random;
  const network = options.network ?? globalNetwork();
  const policy = resolveRetryPolicy(
    { baseDelayMs: 1000, maxDelayMs: 30_000, ...options.backoff },
    'options.backoff',
  );
  const heartbeatMs = positive('options.heartbeatMs', options.heartbeatMs, 30_000);
  const pongTimeoutMs = positive('options.pongTimeoutMs', options.pongTimeoutMs, 10_000);
  const openTimeoutMs = positive('options.openTimeoutMs', options.openTimeoutMs, 15_000);
  const socketRetryMs = positive('options.socketRetryMs', options.socketRetryMs, 120_000);
  const waitTimeoutMs = positive('options.waitTimeoutMs', options.waitTimeoutMs, DEFAULT_WAIT_MS);
  const threshold = positive(
    'options.socketFailuresBeforePolling',
    options.socketFailuresBeforePolling,
    3,
  );
  // Called with `{ clientId }` (remotes that take no options ignore it).
  const openSocket = remote.openSocket?.bind(remote) as
    | ((socketOptions?: { readonly clientId?: string }) => Promise<LiveSocket>)
    | undefined;
  const wait = remote.wait?.bind(remote);

  let state: LiveState = 'off';
  let closed = false;
  /** Bumped whenever the current attempt is dropped: its late callbacks see it and stop. */
  let generation = 0;
  /** Failures in a row (sockets that died or never opened, long-polls that failed). */
  let failures = 0;
  /** Sockets in a row that never opened: past `threshold`, the long-poll takes over. */
  let unopened = 0;
  /** 4001 closes in a row: the first reconnects at once, the next ones back off. */
  let expired = 0;
  let socket: LiveSocket | undefined;
  let polling: AbortController | undefined;
  const handles = {
    step: undefined as unknown,
    beat: undefined as unknown,
    pong: undefined as unknown,
    nap: undefined as unknown,
  };

  const clear = (key: keyof typeof handles) => {
    if (handles[key] !== undefined) timers.clearTimeout(handles[key]);
    handles[key] = undefined;
  };
  const later = (key: keyof typeof handles, ms: number, run: () => void) => {
    clear(key);
    handles[key] = timers.setTimeout(() => {
      handles[key] = undefined;
      run();
    }, ms);
  };

  const setState = (next: LiveState) => {
    if (next === state) return;
    state = next;
    try {
      options.onState?.(next);
    } catch {
      // A listener's failure is its own.
    }
  };
  const report = (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // A listener's failure is its own.
    }
  };
  const poke = async () => {
    try {
      await options.onPoke();
    } catch (error) {
      report(error);
    }
  };

  /** Drops the current attempt: its socket, long-poll and timers. */
  const drop = () => {
    generation++;
    for (const key of Object.keys(handles) as (keyof typeof handles)[]) clear(key);
    polling?.abort();
    polling = undefined;
    const old = socket;
    socket = undefined;
    if (old) {
      try {
        old.close(CLOSE_NORMAL, 'replaced');
      } catch {
        // Closing a socket that is already gone.
      }
    }
  };

  /** Picks a transport and starts it now. */
  const start = () => {
    drop();
    if (closed) return;
    if (!network.online()) return setState('offline');
    if (openSocket && !(wait && unopened >= threshold)) return connect();
    if (wait) return poll();
    setState('off');
  };

  /** Starts again after the backoff of the failures so far. */
  const retry = () => {
    drop();
    setState('connecting');
    later('step', backoffDelay(policy, failures, random), start);
  };

  const connect = () => {
    const gen = generation;
    const open = async () => {
      const clientId = await options.clientId?.();
      return (openSocket as NonNullable<typeof openSocket>)(
        clientId === undefined ? undefined : { clientId },
      );
    };
    let opened = false;
    setState('connecting');

    const failed = (error: unknown) => {
      if (gen !== generation) return;
      report(error);
      failures++;
      unopened++;
      // Sockets keep failing: the long-poll takes over at once (the socket is tried later).
      if (wait && unopened >= threshold) return start();
      retry();
    };
    const died = (error: unknown) => {
      if (gen !== generation) return;
      report(error);
      failures++;
      retry();
    };
    const heartbeat = () => {
      clear('pong');
      later('beat', heartbeatMs, () => {
        try {
          socket?.send(PING);
        } catch (error) {
          return died(error);
        }
        later('pong', pongTimeoutMs, () =>
          died(new Error(`the live socket answered no ping in ${pongTimeoutMs} ms`)),
        );
      });
    };
    const onOpen = () => {
      if (gen !== generation || opened) return;
      opened = true;
      clear('step');
      failures = 0;
      unopened = 0;
      setState('live');
      heartbeat();
      // The edge pokes a new socket too; pulling now keeps a reconnect from missing
      // anything whatever the edge does (runs are coalesced by the caller).
      void poke();
    };
    const onMessage = (event: LiveSocketEvent) => {
      if (gen !== generation) return;
      heartbeat();
      if (event.data === PONG) {
        // The connection lived through a heartbeat: its token was good.
        expired = 0;
        return;
      }
      if (event.data === POKE || isPoke(event.data)) void poke();
    };
    const onClose = (event: LiveSocketEvent) => {
      if (gen !== generation) return;
      socket = undefined;
      if (event.code === LIVE_CLOSE_TOKEN_EXPIRED) {
        // The token expired: open again now, which fetches a fresh one. Should the next
        // socket be closed so too (the app's token is no fresher), back off as it repeats.
        expired++;
        if (expired === 1) return start();
        report(new Error('the live socket was closed again for an expired token'));
        failures = expired - 1;
        return retry();
      }
      expired = 0;
      if (!opened)
        return failed(new Error(`the live socket closed before it opened (${event.code})`));
      died(new Error(`the live socket closed (${event.code ?? 'no code'})`));
    };

    later('step', openTimeoutMs, () =>
      failed(new Error(`the live socket did not open in ${openTimeoutMs} ms`)),
    );
    open().then(
      (opening) => {
        if (gen !== generation) {
          try {
            opening.close(CLOSE_NORMAL, 'not needed');
          } catch {
            // Already gone.
          }
          return;
        }
        socket = opening;
        opening.addEventListener('open', onOpen);
        opening.addEventListener('message', onMessage);
        opening.addEventListener('close', onClose);
        // An error is followed by a close, which decides what happens next.
        opening.addEventListener('error', () => {});
        if (opening.readyState === OPEN) onOpen();
      },
      (error: unknown) => failed(error),
    );
  };

  const poll = () => {
    const gen = generation;
    const controller = new AbortController();
    polling = controller;
    setState('polling');
    // Now and then the socket gets another chance.
    if (openSocket) {
      later('step', socketRetryMs, () => {
        if (gen !== generation) return;
        drop();
        connect();
      });
    }
    const nap = (ms: number) =>
      new Promise<void>((resolve) => {
        later('nap', ms, resolve);
      });
    void (async () => {
      let stalls = 0;
      while (gen === generation) {
        let before: SyncCursor | undefined;
        let answer: WaitResponse;
        try {
          before = await options.cursor();
          if (gen !== generation) return;
          answer = await (wait as NonNullable<SyncRemote['wait']>)(
            {
              protocol: SYNC_PROTOCOL,
              ...(before === undefined ? {} : { cursor: before }),
              timeoutMs: waitTimeoutMs,
            },
            controller.signal,
          );
        } catch (error) {
          if (gen !== generation) return;
          report(error);
          failures++;
          await nap(backoffDelay(policy, failures, random));
          continue;
        }
        if (gen !== generation) return;
        failures = 0;
        if (!answer.changed) continue;
        await poke();
        if (gen !== generation) return;
        // A pull that left the cursor where it was (it failed, or there is no cursor to
        // read): the edge would answer at once again, so wait a growing while first.
        let after: SyncCursor | undefined;
        try {
          after = await options.cursor();
        } catch {
          after = before;
        }
        if (gen !== generation) return;
        if (sameCursor(before, after)) await nap(backoffDelay(policy, ++stalls, random));
        else stalls = 0;
      }
    })();
  };

  const online = () => {
    failures = 0;
    unopened = 0;
    expired = 0;
    start();
  };
  const offline = () => {
    drop();
    if (!closed) setState('offline');
  };
  network.events?.addEventListener('online', online);
  network.events?.addEventListener('offline', offline);

  start();

  return {
    get state() {
      return state;
    },
    reconnect() {
      if (closed) return;
      online();
    },
    close() {
      if (closed) return;
      closed = true;
      drop();
      network.events?.removeEventListener('online', online);
      network.events?.removeEventListener('offline', offline);
      setState('off');
    },
  };
};

const isPoke = (data: unknown): boolean => {
  if (typeof data !== 'string' || !data.startsWith('{')) return false;
  try {
    return (JSON.parse(data) as { type?: unknown } | null)?.type === 'poke';
  } catch {
    return false;
  }
};
