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
   * Called when reading fails or `listener` throws. The subscription stays active: it
   * reads again on the next change, from where it stopped, so no event is skipped.
   */
  readonly onError?: (error: unknown) => void;
  /** How often to look for new events when the backend has no change feed (default 1000 ms). */
  readonly pollIntervalMs?: number;
}

/** Stops a subscription. Idempotent. */
export type Unsubscribe = () => void;

interface Reader<E extends EventShape> {
  read(options?: ReadOptions): Promise<RecordedEvent<E>[]>;
  version(): Promise<number>;
}

const PAGE = 500;

/**
 * A live tail: delivers the stream's events in order, each exactly once, in batches.
 * The KV's change feed (`watch`) only says "the head may have moved"; every delivery is
 * read from storage after the last delivered version, so a missed or duplicated
 * notification costs a read at most, never an event.
 */
export const subscribe = <E extends EventShape>(
  ctx: Context,
  headKey: string,
  reader: Reader<E>,
  listener: (events: RecordedEvent<E>[]) => void,
  options: SubscribeOptions = {},
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

  const catchUp = async (): Promise<void> => {
    if (running) {
      again = true; // the running pass reads once more when it is done
      return;
    }
    running = true;
    try {
      do {
        again = false;
        next ??= (await reader.version()) + 1;
        for (;;) {
          const events = await reader.read({ from: next, limit: PAGE });
          if (stopped || events.length === 0) break;
          next = (events.at(-1) as RecordedEvent<E>).version + 1;
          try {
            listener(events);
          } catch (error) {
            report(error);
          }
          if (events.length < PAGE) break;
        }
      } while (again && !stopped);
    } catch (error) {
      if (!stopped) report(error);
    } finally {
      running = false;
    }
  };

  const unwatch = ctx.kv.watch?.((keys) => {
    if (!stopped && keys.includes(headKey)) void catchUp();
  });
  if (!unwatch) {
    void (async () => {
      while (!stopped) {
        await ctx.clock.sleep(pollIntervalMs);
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
