export interface RateLimiterOptions {
  /** Requests allowed per key and window. */
  readonly limit: number;
  /** Window length (default 60 000 ms). */
  readonly windowMs?: number;
  /** Time source (default `Date.now`). */
  readonly now?: () => number;
}

export interface RateLimiter {
  /** Counts one request for `key`; returns the seconds to wait when over the limit. */
  take(
    key: string,
  ): { readonly allowed: true } | { readonly allowed: false; readonly retryAfter: number };
}

/**
 * A fixed-window request counter kept in the isolate's memory. Best effort: each isolate
 * counts on its own, so it bounds a single noisy client, not a distributed one.
 */
export const createRateLimiter = (options: RateLimiterOptions): RateLimiter => {
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  let windowStart = 0;
  let counts = new Map<string, number>();
  return {
    take(key) {
      const t = now();
      if (t - windowStart >= windowMs) {
        windowStart = t - (t % windowMs);
        counts = new Map(); // forget every key of the previous window at once
      }
      const used = (counts.get(key) ?? 0) + 1;
      counts.set(key, used);
      if (used <= options.limit) return { allowed: true };
      return {
        allowed: false,
        retryAfter: Math.max(1, Math.ceil((windowStart + windowMs - t) / 1000)),
      };
    },
  };
};
