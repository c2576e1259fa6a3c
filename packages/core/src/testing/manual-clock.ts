import type { Clock } from '../clock.js';

export interface ManualClock extends Clock {
  /** Moves time forward. */
  advance(ms: number): void;
  /** Sets the current time. */
  set(ms: number): void;
}

/**
 * A clock that only moves when told to. `sleep(ms)` advances it by `ms` and resolves at
 * once, so code that waits (an `open()` retrying against a lock) runs instantly in tests.
 * A subscription on a backend without a change feed polls with `sleep`, so under this
 * clock it would never yield: give that store a clock whose `sleep` waits a macrotask.
 *
 * @example
 * const clock = createManualClock();
 * const store = createEventStore({ kv, clock, sessionTimeoutMs: 1000 });
 * clock.advance(1000); // every session of `store` has now expired
 */
export const createManualClock = (start = Date.UTC(2026, 0, 1)): ManualClock => {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += Math.max(0, ms);
    },
    advance: (ms) => {
      now += ms;
    },
    set: (ms) => {
      now = ms;
    },
  };
};
