import { InvalidArgumentError, StorageError, type StreamRef } from '@eventkv/core';

/**
 * Long-poll waits served by an `EventStoreObject` (`waitStream`, `waitLog`): a caller that
 * follows a stream or a database's log asks the object to answer as soon as there is
 * something after what it has seen, instead of asking again and again. The remote stores'
 * `subscribe` and `subscribeLog` wait this way between reads.
 */

/** The longest one wait may last: callers wait again, and a Worker's request stays short. */
export const MAX_WAIT_MS = 25_000;

/**
 * The most waits one object holds at a time. Each is a closure and a timer, woken by every
 * change of the object: past this many, a wait is refused (`StorageError`, retryable) and
 * its caller backs off, instead of the object's memory and wake-ups growing without bound.
 */
export const MAX_WAITS = 1000;

/** Waits until the stream's version is past `after` (at most `timeoutMs`): answers the version. */
export interface WaitStreamCall {
  readonly ref: StreamRef;
  readonly after: number;
  readonly timeoutMs: number;
}

/**
 * Waits until the database's log position is past `after` (at most `timeoutMs`): answers
 * the position. Served by the database's object (the feed under `'stream'` routing).
 */
export interface WaitLogCall {
  readonly database?: string;
  readonly after: number;
  readonly timeoutMs: number;
}

const integer = (field: string, value: unknown, max: number): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new InvalidArgumentError(field, `must be an integer from 0 to ${max}`);
  }
  return value;
};

/** Checks a wait's `after` and `timeoutMs` (`InvalidArgumentError` naming the field). */
export const checkWait = (call: {
  readonly after?: unknown;
  readonly timeoutMs?: unknown;
}): { after: number; timeoutMs: number } => ({
  after: integer('after', call.after, Number.MAX_SAFE_INTEGER),
  timeoutMs: integer('timeoutMs', call.timeoutMs, MAX_WAIT_MS),
});

/**
 * Checks a read-your-writes wait on the feed (`feedWait`: `streams` of `{ ref, version }`,
 * `timeoutMs` up to `maxMs`), every stream before any is looked at: a version that is no
 * version (NaN, a string, a fraction) compares false against every head, so left unchecked
 * it would answer "held" (or never) and the caller would read without its own writes.
 */
export const checkFeedWait = (
  call: { readonly streams?: unknown; readonly timeoutMs?: unknown },
  maxMs: number,
): { streams: { ref: StreamRef; version: number }[]; timeoutMs: number } => {
  if (!Array.isArray(call.streams)) {
    throw new InvalidArgumentError('streams', 'must be an array of { ref, version }');
  }
  const streams = call.streams.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) {
      throw new InvalidArgumentError(`streams[${i}]`, 'must be { ref, version }');
    }
    const { ref, version } = entry as { ref?: unknown; version?: unknown };
    return {
      ref: ref as StreamRef,
      version: integer(`streams[${i}].version`, version, Number.MAX_SAFE_INTEGER),
    };
  });
  return { streams, timeoutMs: integer('timeoutMs', call.timeoutMs, maxMs) };
};

/**
 * The waits an object holds. `wake()` after every change (an append, a delivery to the
 * feed, a sync push): each wait reads its head again, and answers when it moved past its
 * cursor. A wake only says "look again", so a spurious one costs a read.
 */
export class Waits {
  readonly #waiting = new Set<() => void>();
  readonly #max: number;

  constructor(max = MAX_WAITS) {
    this.#max = max;
  }

  /** How many waits are pending. */
  get size(): number {
    return this.#waiting.size;
  }

  wake(): void {
    for (const wake of [...this.#waiting]) wake();
  }

  /**
   * Resolves with `head()` as soon as it is past `after`, or with the head at the deadline.
   * Refused with a `StorageError` while `MAX_WAITS` waits are pending.
   */
  async until(
    operation: string,
    after: number,
    timeoutMs: number,
    head: () => Promise<number>,
  ): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await head();
      const left = deadline - Date.now();
      if (now > after || left <= 0) return now;
      if (this.#waiting.size >= this.#max) {
        throw new StorageError(operation, {
          detail: `the object already holds ${this.#max} waits; wait again later`,
        });
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiting.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiting.add(wake);
      });
    }
  }
}
