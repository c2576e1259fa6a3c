import {
  type EventShape,
  InvalidArgumentError,
  type SubscribeOptions,
  type Unsubscribe,
} from '@eventkv/core';
import type { SyncContext, SyncedEvent } from './context.js';

/** Options of `subscribe` on a synced stream. */
export interface SyncedSubscribeOptions extends SubscribeOptions {
  /**
   * Pending events already delivered were replaced (a conflict resolved, a discard): the
   * stream's events from `version` on are delivered again, as they now are. Rebuild what
   * you folded from that version (or from scratch).
   */
  readonly onRewind?: (version: number) => void;
}

const PAGE = 500;

interface Reader<E extends EventShape> {
  read(options: { from: number; to?: number; limit?: number }): Promise<SyncedEvent<E>[]>;
  version(): Promise<number>;
}

/**
 * The live tail of a synced stream: like a local store's, each event once and in order,
 * with one more case: pending events it delivered may be replaced (their versions taken
 * by the edge's events after a conflict). It remembers which delivered events were still
 * pending and, when one of them is replaced, rewinds to it (`onRewind`) and delivers the
 * stream again from there.
 */
export const followSyncedStream = <E extends EventShape>(
  ctx: SyncContext,
  source: Reader<E>,
  listener: (events: SyncedEvent<E>[]) => void,
  options: SyncedSubscribeOptions = {},
): Unsubscribe => {
  if (typeof listener !== 'function') {
    throw new InvalidArgumentError('listener', 'must be a function');
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object');
  }
  const positive = (field: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
      throw new InvalidArgumentError(field, `must be an integer of at least 1 (got ${String(v)})`);
    }
    return v;
  };
  let next = options.from === undefined ? undefined : positive('options.from', options.from);
  const pollIntervalMs =
    options.pollIntervalMs === undefined
      ? 1000
      : positive('options.pollIntervalMs', options.pollIntervalMs);
  /** Delivered while pending: version and message id, oldest first. */
  let unconfirmed: { version: number; messageId: string }[] = [];
  let stopped = false;
  let running = false;
  let again = false;

  const report = (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // Nowhere further to report to.
    }
  };

  /**
   * Compares the delivered pending events with the same versions read now (in the same
   * read as what follows them, so both come from one view of the stream): keeps those
   * still pending, forgets those confirmed, and rewinds to the first one replaced.
   */
  const settle = (events: readonly SyncedEvent<E>[]): void => {
    const byVersion = new Map(events.map((e) => [e.version, e]));
    const kept: typeof unconfirmed = [];
    for (const delivered of unconfirmed) {
      const event = byVersion.get(delivered.version);
      if (event?.metadata.messageId !== delivered.messageId) {
        unconfirmed = [];
        next = delivered.version;
        try {
          options.onRewind?.(delivered.version);
        } catch (error) {
          report(error);
        }
        return;
      }
      if (!event.confirmed) kept.push(delivered);
    }
    unconfirmed = kept;
  };

  const catchUp = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        next ??= (await source.version()) + 1;
        for (;;) {
          const start = unconfirmed[0]?.version ?? next;
          const read = await source.read({ from: start, limit: PAGE + (next - start) });
          if (stopped) break;
          settle(read);
          const events = read.filter((e) => e.version >= (next as number));
          if (events.length === 0) break;
          try {
            listener(events);
          } catch (error) {
            report(error); // delivered again from this batch at the next change
            return;
          }
          for (const e of events) {
            if (!e.confirmed)
              unconfirmed.push({ version: e.version, messageId: e.metadata.messageId });
          }
          next = (events.at(-1) as SyncedEvent<E>).version + 1;
          if (events.length < PAGE) break;
        }
      } while (again && !stopped);
    } catch (error) {
      if (!stopped) report(error);
    } finally {
      running = false;
    }
  };

  const watch = ctx.kv.watch?.bind(ctx.kv);
  const unwatch = watch?.(() => {
    if (!stopped) void catchUp();
  });
  // Polled as well with a change feed: a failed delivery is retried, and a sync run by
  // another store over the same storage may not reach this one's feed.
  void (async () => {
    while (!stopped) {
      await ctx.clock.sleep(pollIntervalMs);
      if (!stopped) await catchUp();
    }
  })();
  void catchUp();
  return () => {
    stopped = true;
    unwatch?.();
  };
};
