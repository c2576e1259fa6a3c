import {
  type EventShape,
  InvalidArgumentError,
  type RecordedEvent,
  type Unsubscribe,
} from '@eventkv/core';
import { createPushOpener, type PushOpener, type PushSocketConstructor } from './live-socket.js';
import {
  followPush,
  type LivePushSettings,
  type LiveSettings,
  resolveLiveSettings,
} from './live-tail.js';
import type { TokenSource } from './transport.js';

/**
 * Where the HTTP store's tails get their push sockets (absent: no socket, the tails
 * long-poll). Made once per store (`createHttpEventStore`).
 */
export interface LivePush {
  readonly opener: PushOpener;
  readonly settings: LiveSettings;
}

/**
 * The push sockets of a store at `url`: through `WebSocket` (default the global one, but
 * only when the store uses the global `fetch`: a service binding or a test's `fetch` would
 * not carry the socket), none with `false` or where there is no WebSocket.
 */
export const createLivePush = (
  url: string,
  token: TokenSource,
  options: {
    readonly fetch?: unknown;
    readonly WebSocket?: PushSocketConstructor | false | undefined;
    readonly live?: LivePushSettings | undefined;
  },
): LivePush | undefined => {
  const settings = resolveLiveSettings(options.live);
  const given = options.WebSocket;
  if (given !== undefined && given !== false && typeof given !== 'function') {
    throw new InvalidArgumentError('options.WebSocket', 'must be a WebSocket class or false');
  }
  const Socket =
    given === false
      ? undefined
      : (given ??
        (options.fetch === undefined
          ? (globalThis as { WebSocket?: PushSocketConstructor }).WebSocket
          : undefined));
  return Socket === undefined
    ? undefined
    : { opener: createPushOpener(url, token, Socket), settings };
};

/** The options of a tail that the push transport reads (the rest reach the long-poll). */
interface TailOptions {
  readonly from?: number;
  readonly after?: number;
  readonly onError?: (error: unknown) => void;
  readonly pollIntervalMs?: number;
}

/** A long-polling tail as the caller starts it: `listener` with `options`. */
type Tail<E extends EventShape, O> = (
  listener: (events: RecordedEvent<E>[]) => void,
  options: O,
) => Unsubscribe;

const checkCount = (field: string, value: unknown, min: number): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(field, `must be an integer of at least ${min}`);
  }
  return value;
};

/** The checks of a local store's `subscribe`/`subscribeLog` (`InvalidArgumentError` naming the field). */
const checkTail = (listener: unknown, options: TailOptions, stream: boolean): void => {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError('options', 'must be an object');
  }
  if (typeof listener !== 'function') {
    throw new InvalidArgumentError('listener', 'must be a function');
  }
  if (stream) checkCount('options.from', options.from, 1);
  else checkCount('options.after', options.after, 0);
  checkCount('options.pollIntervalMs', options.pollIntervalMs, 1);
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new InvalidArgumentError('options.onError', 'must be a function');
  }
};

/**
 * A subscription of the HTTP store: over a push socket when the store has them (`live`),
 * the long-poll `tail` taking over (from the cursor the socket reached) when no socket
 * opens; `tail` alone otherwise. Options are checked before anything starts.
 *
 * `kind` says what is followed: a stream (`from`, versions; `head` is its version) or a
 * database's log (`after`, positions; `head` is its position).
 */
export const subscribeLive = <E extends EventShape, O extends TailOptions>(
  live: LivePush | undefined,
  kind: { readonly path: string; readonly point: 'version' | 'position' },
  listener: (events: RecordedEvent<E>[]) => void,
  options: O,
  tail: Tail<E, O>,
  head: () => Promise<number>,
): Unsubscribe => {
  if (live === undefined) return tail(listener, options);
  const stream = kind.point === 'version';
  checkTail(listener, options, stream);
  const after = stream
    ? options.from === undefined
      ? undefined
      : options.from - 1
    : options.after;
  return followPush(
    live.opener,
    { path: kind.path, point: kind.point },
    listener,
    {
      after,
      onError: options.onError,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
    },
    {
      head,
      follow: (cursor, deliver, onError) =>
        tail(deliver, {
          ...options,
          ...(stream ? { from: cursor + 1 } : { after: cursor }),
          onError,
        }),
    },
    live.settings,
  );
};
