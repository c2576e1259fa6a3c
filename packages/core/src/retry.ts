/**
 * Retries for the remote clients (HTTP, Durable Object RPC): exponential backoff with full
 * jitter, a server-given delay (`Retry-After`) honoured, bounded in attempts and in time.
 *
 * Written here rather than taken from npm: the candidates (p-retry, exponential-backoff)
 * run on their own timers and `Date.now`, so tests cannot drive their time, neither bounds
 * the total time and honours a server's delay together, and p-retry brings a dependency of
 * its own. What is needed is one loop of some forty lines over core's injected `Clock`,
 * which runs unchanged in browsers, workerd and Node.
 */
import { type Clock, systemClock } from './clock.js';
import { InvalidArgumentError } from './errors.js';

/** How a remote client retries; `false` (or `{ maxAttempts: 1 }`) never retries. */
export interface RetryPolicy {
  /** Attempts in all, the first one included (default 5). */
  readonly maxAttempts?: number;
  /** The first backoff's ceiling in ms (default 100), doubled after each failure. */
  readonly baseDelayMs?: number;
  /** The longest wait in ms, a server-given one included (default 5000). */
  readonly maxDelayMs?: number;
  /** No retry starts later than this many ms after the first attempt (default 20000). */
  readonly maxElapsedMs?: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<Required<RetryPolicy>> = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 5000,
  maxElapsedMs: 20_000,
});

/**
 * What a failed attempt allows: `false`, nothing (the failure is final); `true`, a retry
 * after the backoff; `{ afterMs }`, a retry after the delay the server asked for (capped
 * by `maxDelayMs`).
 */
export type RetryVerdict = boolean | { readonly afterMs: number };

export interface RetryOptions {
  /** Default `DEFAULT_RETRY_POLICY`; fields left out take their default. */
  readonly policy?: RetryPolicy | false | undefined;
  /** Whether the failure of attempt `attempt` (1 for the first) may be retried. */
  readonly classify: (error: unknown, attempt: number) => RetryVerdict;
  /** Time to wait and measure with (default `systemClock`). */
  readonly clock?: Clock | undefined;
  /** A number in [0, 1) that picks each backoff (default `Math.random`). */
  readonly random?: (() => number) | undefined;
}

const POLICY_KEYS: ReadonlySet<string> = new Set(Object.keys(DEFAULT_RETRY_POLICY));

const count = (field: string, value: unknown, min: number): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(field, `must be an integer of at least ${min}`);
  }
  return value;
};

/**
 * A policy with every field filled in and checked (`InvalidArgumentError` naming the
 * field); `false` is one attempt.
 */
export const resolveRetryPolicy = (
  policy: RetryPolicy | false | undefined,
  field = 'retry',
): Readonly<Required<RetryPolicy>> => {
  if (policy === undefined) return DEFAULT_RETRY_POLICY;
  if (policy === false) return { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 };
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    throw new InvalidArgumentError(field, 'must be false or an object');
  }
  for (const key of Object.keys(policy)) {
    if (!POLICY_KEYS.has(key)) {
      throw new InvalidArgumentError(
        `${field}.${key}`,
        `is not a retry setting (${[...POLICY_KEYS].join(', ')})`,
      );
    }
  }
  const value = (key: keyof RetryPolicy, min: number) =>
    count(`${field}.${key}`, policy[key] ?? DEFAULT_RETRY_POLICY[key], min);
  return {
    maxAttempts: value('maxAttempts', 1),
    baseDelayMs: value('baseDelayMs', 0),
    maxDelayMs: value('maxDelayMs', 0),
    maxElapsedMs: value('maxElapsedMs', 0),
  };
};

/** The wait after `failures` failed attempts: uniform in [0, min(max, base * 2^(failures-1))). */
export const backoffDelay = (
  policy: Readonly<Required<RetryPolicy>>,
  failures: number,
  random: () => number = Math.random,
): number =>
  Math.floor(
    random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1)),
  );

/**
 * Runs `attempt` until it succeeds, its failure is final (`classify`), the attempts run
 * out, or the next wait would end past `maxElapsedMs`; then throws the last failure as it
 * is. The caller decides what is safe to repeat: `classify` sees every failure.
 * @example
 * const result = await withRetries(() => send(request), {
 *   policy: { maxAttempts: 3 },
 *   classify: (error) => isNetworkFailure(error),
 * });
 */
export const withRetries = async <T>(
  attempt: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> => {
  const policy = resolveRetryPolicy(options.policy);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const started = clock.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= policy.maxAttempts) throw error;
      const verdict = options.classify(error, n);
      if (verdict === false) throw error;
      const delay =
        verdict === true
          ? backoffDelay(policy, n, random)
          : Math.min(policy.maxDelayMs, Math.max(0, verdict.afterMs));
      if (clock.now() - started + delay > policy.maxElapsedMs) throw error;
      await clock.sleep(delay);
    }
  }
};

const DELAY_SECONDS = /^\d+$/;
const LETTER = /[A-Za-z]/;

/**
 * The wait a `Retry-After` header asks for, in ms: delay-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`, 0 once past). `undefined` when absent or unreadable.
 */
export const parseRetryAfter = (
  value: string | null | undefined,
  now: number,
): number | undefined => {
  const text = value?.trim();
  if (!text) return undefined;
  if (DELAY_SECONDS.test(text)) return Number(text) * 1000;
  // Date.parse reads bare numbers ("1.5") as dates too: an HTTP-date always names its day.
  if (!LETTER.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
};
