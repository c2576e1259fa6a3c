/**
 * Time is injected so that sessions, expiry and open retries can be driven by a test
 * clock. Core touches no timer or Date.now() of its own.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
}

type TimerHost = { setTimeout?: (fn: () => void, ms: number) => unknown };

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) =>
    new Promise((resolve) => {
      const host = globalThis as TimerHost;
      if (!host.setTimeout) throw new Error('eventkv: no setTimeout here; inject a Clock');
      host.setTimeout(resolve, ms);
    }),
};
