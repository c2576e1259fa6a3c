import { InvalidArgumentError } from './errors.js';
import type { Context } from './options.js';
import { followCursor, type TailTrigger } from './subscribe-cursor.js';
import type { EventShape, ReadOptions, RecordedEvent } from './types.js';
import { validateInteger, validateObject } from './validate.js';

export type { TailTrigger } from './subscribe-cursor.js';

export interface SubscribeOptions {
  /**
   * First version to deliver. Default: the version after the head when the subscription
   * starts, i.e. only events appended from then on. `1` replays the whole stream first.
   */
  readonly from?: number;
  /**
   * Called when reading fails or `listener` throws. The subscription stays active and
   * nothing is skipped: the batch that failed (or could not be read) is delivered again,
   * from its first event, at the next change or after `pollIntervalMs`, whichever comes
   * first. A listener that throws on every delivery of a batch holds the tail there.
   */
  readonly onError?: (error: unknown) => void;
  /**
   * How often to look for new events when the backend has neither a change feed nor a
   * long-poll, how long to wait before delivering a failed batch again, and the first
   * backoff after a failed long-poll (default 1000 ms).
   */
  readonly pollIntervalMs?: number;
}

/** Stops a subscription. Idempotent. */
export type Unsubscribe = () => void;

/** What a live tail reads through: a stream handle, local or remote. */
export interface TailSource<E extends EventShape> {
  read(options?: ReadOptions): Promise<RecordedEvent<E>[]>;
  version(): Promise<number>;
}

const PAGE = 500;

/**
 * A live tail over any stream handle: delivers the stream's events in order, each exactly
 * once, in batches (`followCursor`: a change notification or a long-poll answer only says
 * "the head may have moved"; every delivery is read after the last delivered version).
 * Without a change feed or a long-poll it polls. `stream.subscribe` is built on it; so are
 * the remote stores (HTTP, Durable Object RPC), which long-poll.
 * @example
 * subscribe(listener, options) { return followStream(this, listener, options, { sleep }); }
 */
export const followStream = <E extends EventShape>(
  source: TailSource<E>,
  listener: (events: RecordedEvent<E>[]) => void,
  options: SubscribeOptions = {},
  trigger: TailTrigger,
): Unsubscribe => {
  validateObject('options', options);
  if (typeof listener !== 'function') {
    throw new InvalidArgumentError('listener', 'must be a function');
  }
  const from =
    options.from === undefined ? undefined : validateInteger('options.from', options.from, 1);
  return followCursor<RecordedEvent<E>>(
    {
      head: () => source.version(),
      next: async (cursor) => {
        const events = await source.read({ from: cursor + 1, limit: PAGE });
        const last = events.at(-1);
        return { items: events, cursor: last ? last.version : cursor, full: events.length >= PAGE };
      },
    },
    listener,
    {
      after: from === undefined ? undefined : from - 1,
      onError: options.onError,
      pollIntervalMs: pollInterval(options.pollIntervalMs),
    },
    trigger,
  );
};

/** `options.pollIntervalMs` checked, or its default. */
export const pollInterval = (value: number | undefined): number =>
  value === undefined ? 1000 : validateInteger('options.pollIntervalMs', value, 1);

/**
 * What wakes a local store's tail: the KV's change feed, when it has one, filtered to the
 * head record the tail follows (a stream's head, a database's log head); without one the
 * tail polls on the store's clock. `subscribe` and `subscribeLog` share it.
 */
export const localTrigger = (ctx: Context, headKey: string): TailTrigger => {
  const { kv } = ctx;
  const watch = kv.watch?.bind(kv);
  return {
    sleep: (ms) => ctx.clock.sleep(ms),
    ...(watch
      ? {
          changes: (notify: () => void) =>
            watch((keys) => {
              if (keys.includes(headKey)) notify();
            }),
        }
      : {}),
  };
};

/** `stream.subscribe` on a local store: follows the KV's change feed, or polls on its clock. */
export const subscribe = <E extends EventShape>(
  ctx: Context,
  headKey: string,
  source: TailSource<E>,
  listener: (events: RecordedEvent<E>[]) => void,
  options: SubscribeOptions = {},
): Unsubscribe => followStream(source, listener, options, localTrigger(ctx, headKey));
