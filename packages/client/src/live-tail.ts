/**
 * A live tail over a push socket (`GET .../live`, the protocol: `push-protocol.ts` in
 * `@eventkv/core`), the first choice of `stream.subscribe` and `store.subscribeLog`: events
 * arrive as they are written, without a request per batch. It keeps the cursor (the last
 * version or log position handed to the listener) and reconnects from it: after a drop, a
 * restarted object, an expired token (4001, at once, with a fresh token) or a slow-consumer
 * close (4002, at once: the server replays the rest at the client's pace), so no event is
 * skipped or repeated. Sockets that keep failing to open (no WebSocket route, a proxy that
 * refuses upgrades) hand over to the long-poll from the same cursor; the socket is tried
 * again now and then.
 *
 * Reconnection is written here rather than taken from npm (reconnecting-websocket,
 * partysocket and the like), as the sync package's live connection is: what matters is ours
 * (the resume point in the URL of each new socket, the acks, the close codes and the
 * fallback to our long-poll and back), those libraries reconnect to a fixed URL and would
 * add to the bundle of a client with a size budget, and their timers could not be driven by
 * tests. The backoff is core's (`backoffDelay`: exponential, full jitter).
 *
 * The sync package's live connection (`packages/sync/src/live.ts`) keeps its socket by the
 * same rules in a loop of its own: one loop for both cost this package's bundle past its
 * size budget (the README's "Live subscriptions" says by how much). A change to one is
 * made in both.
 */
import {
  backoffDelay,
  type EventShape,
  InvalidArgumentError,
  PUSH_CLOSE_SLOW_CONSUMER,
  PUSH_CLOSE_TOKEN_EXPIRED,
  PUSH_PING,
  PUSH_PONG,
  type RecordedEvent,
  resolveRetryPolicy,
  type Unsubscribe,
} from '@eventkv/core';
import type { PushOpener, PushSocket, PushSocketEvent } from './live-socket.js';
import { fromWire } from './wire.js';

/** Settings of the push sockets (`HttpEventStoreOptions.live`). */
export interface LivePushSettings {
  /** The most events sent and not yet processed (default and at most 1000). */
  readonly buffer?: number;
  /** Reconnection delays: the first one's ceiling (default 1000 ms), doubling up to `maxDelayMs` (30000). */
  readonly backoff?: { readonly baseDelayMs?: number; readonly maxDelayMs?: number };
  /** After this long without a message, a ping goes out (default 30000 ms). */
  readonly heartbeatMs?: number;
  /** A socket that answers nothing this long after a ping is dead (default 10000 ms). */
  readonly pongTimeoutMs?: number;
  /** A socket not open this long after it was asked for has failed (default 15000 ms). */
  readonly openTimeoutMs?: number;
  /** Sockets that fail to open in a row before the long-poll takes over (default 3). */
  readonly socketFailuresBeforePolling?: number;
  /** While long-polling, the socket is tried again this often (default 120000 ms). */
  readonly socketRetryMs?: number;
  /** A number in [0, 1) that picks each delay (default `Math.random`). */
  readonly random?: () => number;
}

/** What a tail pushes: a stream (`from`, versions) or a log (`after`, positions). */
export interface PushTarget {
  /** The route, e.g. `/v1/acme/streams/Account/42/live`. */
  readonly path: string;
  readonly point: 'version' | 'position';
}

/** The long-poll a tail falls back on, and where "from now on" starts. */
export interface PushFallback<E extends EventShape> {
  /** The cursor of "from now on": the stream's version, the log's position. */
  head(): Promise<number>;
  /** A tail that delivers after `after` (long-polling); the returned function stops it. */
  follow(
    after: number,
    listener: (events: RecordedEvent<E>[]) => void,
    onError: (error: unknown) => void,
  ): Unsubscribe;
}

export interface PushTailOptions {
  /** The cursor to deliver after; `undefined`: the head when the tail starts. */
  readonly after: number | undefined;
  readonly onError: ((error: unknown) => void) | undefined;
  /** How long to wait before delivering again a batch the listener threw on. */
  readonly pollIntervalMs: number;
}

const OPEN = 1;

const setting = (name: string, value: unknown, fallback: number, min = 0): number => {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidArgumentError(`options.live.${name}`, `must be a number of at least ${min}`);
  }
  return value;
};

/** The settings checked once, when the store is made. */
export const resolveLiveSettings = (live: LivePushSettings = {}) => {
  if (typeof live !== 'object' || live === null) {
    throw new InvalidArgumentError('options.live', 'must be an object');
  }
  const buffer = live.buffer === undefined ? undefined : setting('buffer', live.buffer, 0, 1);
  if (buffer !== undefined && (!Number.isSafeInteger(buffer) || buffer > 1000)) {
    throw new InvalidArgumentError('options.live.buffer', 'must be an integer from 1 to 1000');
  }
  return {
    buffer,
    policy: resolveRetryPolicy(
      { baseDelayMs: 1000, maxDelayMs: 30_000, ...live.backoff },
      'options.live.backoff',
    ),
    heartbeatMs: setting('heartbeatMs', live.heartbeatMs, 30_000),
    pongTimeoutMs: setting('pongTimeoutMs', live.pongTimeoutMs, 10_000),
    openTimeoutMs: setting('openTimeoutMs', live.openTimeoutMs, 15_000),
    threshold: setting('socketFailuresBeforePolling', live.socketFailuresBeforePolling, 3, 1),
    socketRetryMs: setting('socketRetryMs', live.socketRetryMs, 120_000),
    random: live.random ?? Math.random,
  };
};
export type LiveSettings = ReturnType<typeof resolveLiveSettings>;

/**
 * Follows `target` through push sockets from `opener` (the long-poll of `fallback` when
 * there is none, or none opens), delivering each event once, in order. Starts at once.
 */
export const followPush = <E extends EventShape>(
  opener: PushOpener,
  target: PushTarget,
  listener: (events: RecordedEvent<E>[]) => void,
  options: PushTailOptions,
  fallback: PushFallback<E>,
  settings: LiveSettings,
): Unsubscribe => {
  const { point } = target;
  let after = options.after;
  let stopped = false;
  /** Bumped whenever the current attempt is dropped: its late callbacks see it and stop. */
  let generation = 0;
  /** Failures in a row; sockets in a row that never opened; 4001 closes in a row. */
  let failures = 0;
  let unopened = 0;
  let expired = 0;
  let socket: PushSocket | undefined;
  let polling: Unsubscribe | undefined;
  const handles: Record<'step' | 'beat' | 'pong', ReturnType<typeof setTimeout> | undefined> = {
    step: undefined,
    beat: undefined,
    pong: undefined,
  };
  const clear = (key: keyof typeof handles) => {
    if (handles[key] !== undefined) clearTimeout(handles[key]);
    handles[key] = undefined;
  };
  const later = (key: keyof typeof handles, ms: number, run: () => void) => {
    clear(key);
    handles[key] = setTimeout(() => {
      handles[key] = undefined;
      run();
    }, ms);
  };
  const report = (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // An error handler that throws has nowhere further to report to.
    }
  };

  /**
   * Hands the events after the cursor to the listener and moves the cursor past them; what
   * the cursor has passed already (a repeat) is left out. Throws on a batch out of order
   * (or, for a stream, with a gap), and what the listener throws (the cursor stays: the
   * batch is asked for again).
   */
  const deliver = (events: RecordedEvent<E>[]): void => {
    const fresh = events.filter((e) => (e[point] as number) > (after as number));
    let last = after as number;
    for (const e of fresh) {
      const at = e[point] as number;
      // In order, each once, and a stream without gaps: a batch out of order, repeating an
      // event or skipping a version inside it is refused whole, not delivered in part.
      if (at <= last || (point === 'version' && at !== last + 1)) {
        throw new Error(`push: ${point} ${at} arrived after ${last}`);
      }
      last = at;
    }
    if (last === after) return;
    listener(fresh);
    after = last;
  };

  /** Drops the current attempt: its socket, long-poll and timers. */
  const drop = () => {
    generation++;
    for (const key of Object.keys(handles) as (keyof typeof handles)[]) clear(key);
    polling?.();
    polling = undefined;
    const old = socket;
    socket = undefined;
    try {
      old?.close(1000, 'done');
    } catch {
      // Already gone.
    }
  };

  const start = (): void => {
    drop();
    if (stopped) return;
    if (after === undefined) {
      const gen = generation;
      fallback.head().then(
        (head) => {
          if (gen !== generation) return;
          after ??= head;
          start();
        },
        (error: unknown) => {
          if (gen !== generation) return;
          report(error);
          later('step', options.pollIntervalMs, start);
        },
      );
      return;
    }
    if (unopened >= settings.threshold) poll();
    else connect();
  };

  /** Starts again after the backoff of the failures so far. */
  const retry = (ms = backoffDelay(settings.policy, failures, settings.random)) => {
    drop();
    later('step', ms, start);
  };

  const connect = () => {
    const gen = generation;
    let opened = false;
    const failed = (error: unknown) => {
      if (gen !== generation) return;
      report(error);
      failures++;
      unopened++;
      // Sockets keep failing: the long-poll takes over at once (the socket is tried later).
      if (unopened >= settings.threshold) start();
      else retry();
    };
    const died = (error: unknown) => {
      if (gen !== generation) return;
      report(error);
      failures++;
      retry();
    };
    const heartbeat = () => {
      clear('pong');
      later('beat', settings.heartbeatMs, () => {
        try {
          socket?.send(PUSH_PING);
        } catch (error) {
          return died(error);
        }
        later('pong', settings.pongTimeoutMs, () =>
          died(new Error(`the push socket answered no ping in ${settings.pongTimeoutMs} ms`)),
        );
      });
    };
    const onOpen = () => {
      if (gen !== generation || opened) return;
      opened = true;
      clear('step');
      failures = 0;
      unopened = 0;
      heartbeat();
    };
    const onMessage = (event: PushSocketEvent) => {
      if (gen !== generation) return;
      onOpen();
      heartbeat();
      if (event.data === PUSH_PONG) {
        // The connection lived through a heartbeat: its token was good.
        expired = 0;
        return;
      }
      let events: RecordedEvent<E>[];
      try {
        events = (fromWire(String(event.data)) as { events: RecordedEvent<E>[] }).events;
        if (!Array.isArray(events)) throw new Error('push: a message without events');
      } catch (error) {
        return died(error);
      }
      try {
        deliver(events);
      } catch (error) {
        // Delivered again from the cursor, by a new socket, after a pause.
        report(error);
        return retry(options.pollIntervalMs);
      }
      try {
        socket?.send(JSON.stringify({ type: 'ack', to: after }));
      } catch (error) {
        died(error);
      }
    };
    const onClose = (event: PushSocketEvent) => {
      if (gen !== generation) return;
      socket = undefined;
      if (event.code === PUSH_CLOSE_TOKEN_EXPIRED) {
        // Open again now, with a fresh token. Closed so again (the app's token is no
        // fresher): back off as it repeats.
        expired++;
        if (expired === 1) return start();
        report(new Error('the push socket was closed again for an expired token'));
        failures = expired - 1;
        return retry();
      }
      expired = 0;
      // Dropped as a slow consumer: the server replays the rest at this client's pace.
      if (event.code === PUSH_CLOSE_SLOW_CONSUMER) return start();
      if (!opened) {
        return failed(new Error(`the push socket closed before it opened (${event.code})`));
      }
      died(new Error(`the push socket closed (${event.code ?? 'no code'})`));
    };

    later('step', settings.openTimeoutMs, () =>
      failed(new Error(`the push socket did not open in ${settings.openTimeoutMs} ms`)),
    );
    const from = point === 'version' ? { from: (after as number) + 1 } : { after: after as number };
    opener
      .open(target.path, {
        ...from,
        ...(settings.buffer === undefined ? {} : { buffer: settings.buffer }),
      })
      .then(
        (opening) => {
          if (gen !== generation) {
            try {
              opening.close(1000, 'not needed');
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
    polling = fallback.follow(
      after as number,
      (events) => {
        // A late delivery of a long-poll that was stopped is not this attempt's.
        if (gen === generation) deliver(events);
      },
      report,
    );
    // Now and then the socket gets another chance, from the cursor the long-poll reached.
    later('step', settings.socketRetryMs, () => {
      drop();
      unopened = settings.threshold - 1;
      connect();
    });
  };

  start();
  return () => {
    stopped = true;
    drop();
  };
};
