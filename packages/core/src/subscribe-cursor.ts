/**
 * The engine under every live tail (`stream.subscribe`, `store.subscribeLog`): a cursor
 * (the last version or log position delivered) that only moves when a batch was handed to
 * the listener without throwing. Whatever wakes the tail (a change feed, a poll, a
 * long-poll answering) only says "there may be something after the cursor"; every delivery
 * is read after the cursor, so a missed, late or duplicated wake-up costs a read at most,
 * never an event.
 */

/**
 * The part of an `AbortSignal` a wait needs (core is typed without the DOM); at run time it
 * is a real `AbortSignal`, which a `fetch` can take as it is.
 */
export interface WaitSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

interface Aborter {
  readonly signal: WaitSignal;
  abort(): void;
}

const { AbortController } = globalThis as unknown as { AbortController: new () => Aborter };

/** How a live tail learns that its source may have moved. */
export interface TailTrigger {
  /** Waits between polls when there is nothing better, and before retrying a failed batch. */
  readonly sleep: (ms: number) => Promise<void>;
  /** A change feed: calls `notify` when the source may have moved; returns its stop. */
  readonly changes?: (notify: () => void) => () => void;
  /**
   * A long-poll: settles when the source may hold something after `after` (a version, or
   * a log position), or at its own timeout, whichever comes first; the tail then reads and
   * waits again. Aborted through `signal` when the tail stops. A rejection is reported to
   * `onError` and retried with backoff (from `pollIntervalMs`, doubling up to
   * `MAX_BACKOFF_MS`). Ignored when `changes` is given.
   */
  readonly wait?: (after: number, signal: WaitSignal) => Promise<unknown>;
}

/** What a tail reads through: where it starts, and the batch after a cursor. */
export interface CursorSource<T> {
  /** The cursor of "from now on": the stream's version, the log's position. */
  head(): Promise<number>;
  /**
   * The next batch after `cursor`: its items, the cursor after them, and whether the batch
   * was full (more may follow right away, read before waiting again).
   */
  next(cursor: number): Promise<{ items: T[]; cursor: number; full: boolean }>;
}

export interface CursorTailOptions {
  /** The cursor to deliver after; `undefined`: the source's head when the tail starts. */
  readonly after: number | undefined;
  readonly onError: ((error: unknown) => void) | undefined;
  readonly pollIntervalMs: number;
}

/** The longest a long-polling tail backs off after failed waits. */
export const MAX_BACKOFF_MS = 30_000;

/** Runs a tail until the returned function is called (idempotent). */
export const followCursor = <T>(
  source: CursorSource<T>,
  listener: (items: T[]) => void,
  options: CursorTailOptions,
  trigger: TailTrigger,
): (() => void) => {
  const { pollIntervalMs } = options;
  let cursor = options.after;
  let stopped = false;
  let running = false;
  let again = false;
  const aborter = new AbortController();

  const report = (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // An error handler that throws has nowhere further to report to.
    }
  };

  // With a change feed nothing else would read again after a failure until the next
  // change: a retry is scheduled instead (polling and long-polling loops retry themselves).
  const feed = trigger.changes !== undefined;
  let retrying = false;
  const retryLater = (): void => {
    if (!feed || retrying || stopped) return;
    retrying = true;
    void trigger.sleep(pollIntervalMs).then(() => {
      retrying = false;
      if (!stopped) void catchUp();
    });
  };

  /** Delivers everything after the cursor; false when a read or the listener failed. */
  const catchUp = async (): Promise<boolean> => {
    if (running) {
      again = true; // the running pass reads once more when it is done
      return true;
    }
    running = true;
    try {
      do {
        again = false;
        cursor ??= await source.head();
        for (;;) {
          const batch = await source.next(cursor);
          if (stopped || batch.items.length === 0) break;
          try {
            listener(batch.items);
          } catch (error) {
            // The cursor stays before this batch: it is delivered again, not skipped.
            report(error);
            retryLater();
            return false;
          }
          cursor = batch.cursor;
          if (!batch.full) break;
        }
      } while (again && !stopped);
      return true;
    } catch (error) {
      if (!stopped) {
        report(error);
        retryLater();
      }
      return false;
    } finally {
      running = false;
    }
  };

  const unwatch = trigger.changes?.(() => {
    if (!stopped) void catchUp();
  });
  const { wait } = trigger;
  if (unwatch) {
    void catchUp();
  } else if (wait) {
    // Read, then wait for something after what was delivered, and again. A failed batch is
    // retried after pollIntervalMs (the source already holds something after the cursor:
    // waiting would return at once); a failed wait backs off.
    void (async () => {
      let failures = 0;
      while (!stopped) {
        const delivered = await catchUp();
        if (stopped) break;
        if (!delivered || cursor === undefined) {
          await trigger.sleep(pollIntervalMs);
          continue;
        }
        try {
          await wait(cursor, aborter.signal);
          failures = 0;
        } catch (error) {
          if (stopped) break;
          report(error);
          failures += 1;
          const backoff = pollIntervalMs * 2 ** Math.min(failures - 1, 16);
          await trigger.sleep(Math.min(backoff, Math.max(pollIntervalMs, MAX_BACKOFF_MS)));
        }
      }
    })();
  } else {
    void (async () => {
      await catchUp();
      while (!stopped) {
        await trigger.sleep(pollIntervalMs);
        if (!stopped) await catchUp();
      }
    })();
  }
  return () => {
    if (stopped) return;
    stopped = true;
    unwatch?.();
    aborter.abort();
  };
};
