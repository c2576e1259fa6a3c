import { InvalidArgumentError } from './errors.js';
import type { Context } from './options.js';
import type { EventShape, ReadOptions, RecordedEvent } from './types.js';
import { validateInteger, validateObject } from './validate.js';

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
   * How often to look for new events when the backend has no change feed, and how long to
   * wait before delivering a failed batch again (default 1000 ms).
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

/** How a live tail learns that the stream may have moved. */
export interface TailTrigger {
  /** Waits between polls when there is no change feed. */
  readonly sleep: (ms: number) => Promise<void>;
  /** A change feed: calls `notify` when the stream may have moved; returns its stop. */
  readonly changes?: (notify: () => void) => () => void;
}

const PAGE = 500;

/**
 * A live tail over any stream handle: delivers the stream's events in order, each exactly
 * once, in batches. A change notification only says "the head may have moved"; every
 * delivery is read after the last delivered version, so a missed or duplicated
 * notification costs a read at most, never an event. Without a change feed it polls.
 * `stream.subscribe` is built on it; so are the remote stores (HTTP, Durable Object RPC).
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
  let next =
    options.from === undefined ? undefined : validateInteger('options.from', options.from, 1);
  const pollIntervalMs =
    options.pollIntervalMs === undefined
      ? 1000
      : validateInteger('options.pollIntervalMs', options.pollIntervalMs, 1);
  let stopped = false;
  let running = false;
  let again = false;

  const report = (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // An error handler that throws has nowhere further to report to.
    }
  };

  // With a change feed nothing else would read again after a failure until the next
  // change: a retry is scheduled instead (a polling tail retries at its next poll).
  let retrying = false;
  let polling = false;
  const retryLater = (): void => {
    if (polling || retrying || stopped) return;
    retrying = true;
    void trigger.sleep(pollIntervalMs).then(() => {
      retrying = false;
      if (!stopped) void catchUp();
    });
  };

  const catchUp = async (): Promise<void> => {
    if (running) {
      again = true; // the running pass reads once more when it is done
      return;
    }
    running = true;
    try {
      do {
        again = false;
        next ??= (await source.version()) + 1;
        for (;;) {
          const events = await source.read({ from: next, limit: PAGE });
          if (stopped || events.length === 0) break;
          try {
            listener(events);
          } catch (error) {
            // The cursor stays at this batch: it is delivered again, not skipped.
            report(error);
            retryLater();
            return;
          }
          next = (events.at(-1) as RecordedEvent<E>).version + 1;
          if (events.length < PAGE) break;
        }
      } while (again && !stopped);
    } catch (error) {
      if (!stopped) {
        report(error);
        retryLater();
      }
    } finally {
      running = false;
    }
  };

  const unwatch = trigger.changes?.(() => {
    if (!stopped) void catchUp();
  });
  if (!unwatch) {
    polling = true;
    void (async () => {
      while (!stopped) {
        await trigger.sleep(pollIntervalMs);
        if (!stopped) await catchUp();
      }
    })();
  }
  void catchUp();
  return () => {
    stopped = true;
    unwatch?.();
  };
};

/** `stream.subscribe` on a local store: follows the KV's change feed, or polls on its clock. */
export const subscribe = <E extends EventShape>(
  ctx: Context,
  headKey: string,
  source: TailSource<E>,
  listener: (events: RecordedEvent<E>[]) => void,
  options: SubscribeOptions = {},
): Unsubscribe => {
  const { kv } = ctx;
  const watch = kv.watch?.bind(kv);
  return followStream(source, listener, options, {
    sleep: (ms) => ctx.clock.sleep(ms),
    ...(watch
      ? {
          changes: (notify: () => void) =>
            watch((keys) => {
              if (keys.includes(headKey)) notify();
            }),
        }
      : {}),
  });
};
