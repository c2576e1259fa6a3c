import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isInvalidArgumentError,
  parseRetryAfter,
  type RetryVerdict,
  resolveRetryPolicy,
  withRetries,
} from '../src/index.js';
import { createManualClock } from '../src/testing/index.js';

/** A clock that records every wait (and advances by it). */
const recordingClock = () => {
  const clock = createManualClock(1_000_000);
  const waits: number[] = [];
  return {
    clock: {
      now: clock.now,
      sleep: async (ms: number) => {
        waits.push(ms);
        await clock.sleep(ms);
      },
    },
    waits,
    advance: clock.advance,
  };
};

/** An attempt that fails `failures` times (with errors 1, 2, ...), then returns 'done'. */
const failing = (failures: number) => {
  const calls: number[] = [];
  const attempt = async (n: number) => {
    calls.push(n);
    if (calls.length <= failures) throw new Error(`failure ${calls.length}`);
    return 'done';
  };
  return { attempt, calls };
};

const always = (verdict: RetryVerdict) => () => verdict;

describe('resolveRetryPolicy', () => {
  it('fills in the defaults, and false is one attempt', () => {
    expect(resolveRetryPolicy(undefined)).toEqual({
      maxAttempts: 5,
      baseDelayMs: 100,
      maxDelayMs: 5000,
      maxElapsedMs: 20_000,
    });
    expect(resolveRetryPolicy(false)).toEqual({ ...DEFAULT_RETRY_POLICY, maxAttempts: 1 });
    expect(resolveRetryPolicy({ maxAttempts: 2, baseDelayMs: 0 })).toEqual({
      ...DEFAULT_RETRY_POLICY,
      maxAttempts: 2,
      baseDelayMs: 0,
    });
  });

  it('refuses settings it does not know and values out of range, naming the field', () => {
    const fieldOf = (policy: unknown, field?: string) => {
      try {
        resolveRetryPolicy(policy as never, field);
      } catch (error) {
        expect(isInvalidArgumentError(error)).toBe(true);
        return (error as { field: string }).field;
      }
      return 'accepted';
    };
    expect(fieldOf(null)).toBe('retry');
    expect(fieldOf([])).toBe('retry');
    expect(fieldOf(true)).toBe('retry');
    expect(fieldOf({ attempts: 3 })).toBe('retry.attempts');
    expect(fieldOf({ maxAttempts: 0 })).toBe('retry.maxAttempts');
    expect(fieldOf({ maxAttempts: 1.5 })).toBe('retry.maxAttempts');
    expect(fieldOf({ baseDelayMs: -1 })).toBe('retry.baseDelayMs');
    expect(fieldOf({ maxDelayMs: '10' })).toBe('retry.maxDelayMs');
    expect(fieldOf({ maxElapsedMs: Number.NaN }, 'options.retry')).toBe(
      'options.retry.maxElapsedMs',
    );
  });
});

describe('backoffDelay', () => {
  it('is full jitter under a ceiling that doubles from the base up to the max delay', () => {
    const policy = resolveRetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 });
    const top = () => 0.999_999;
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(policy, n, top))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelay(policy, 0, top)).toBe(99); // before any failure: the base
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(200);
    // The default random source stays within the ceiling.
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(policy, 2);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(200);
    }
  });
});

describe('withRetries', () => {
  it('returns the first success without waiting', async () => {
    const { clock, waits } = recordingClock();
    const { attempt, calls } = failing(0);
    expect(await withRetries(attempt, { classify: always(true), clock })).toBe('done');
    expect(calls).toEqual([1]);
    expect(waits).toEqual([]);
  });

  it('retries a retryable failure after the jittered backoff, numbering the attempts', async () => {
    const { clock, waits } = recordingClock();
    const { attempt, calls } = failing(3);
    const seen: [string, number][] = [];
    const result = await withRetries(attempt, {
      classify: (error, n) => {
        seen.push([(error as Error).message, n]);
        return true;
      },
      clock,
      random: () => 0.5,
    });
    expect(result).toBe('done');
    expect(calls).toEqual([1, 2, 3, 4]);
    expect(seen).toEqual([
      ['failure 1', 1],
      ['failure 2', 2],
      ['failure 3', 3],
    ]);
    expect(waits).toEqual([50, 100, 200]);
  });

  it('throws a final failure at once, as it is', async () => {
    const { clock, waits } = recordingClock();
    const { attempt, calls } = failing(5);
    const error = await withRetries(attempt, { classify: always(false), clock }).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('failure 1');
    expect(calls).toEqual([1]);
    expect(waits).toEqual([]);
  });

  it('gives up after maxAttempts with the last failure', async () => {
    const { clock, waits } = recordingClock();
    const { attempt, calls } = failing(10);
    const error = await withRetries(attempt, {
      policy: { maxAttempts: 3 },
      classify: always(true),
      clock,
      random: () => 0,
    }).catch((e) => e);
    expect(error.message).toBe('failure 3');
    expect(calls).toEqual([1, 2, 3]);
    expect(waits).toEqual([0, 0]);
  });

  it('never retries with false or maxAttempts 1, and does not even classify', async () => {
    for (const policy of [false, { maxAttempts: 1 }] as const) {
      const { attempt, calls } = failing(1);
      let classified = 0;
      const error = await withRetries(attempt, {
        policy,
        classify: () => {
          classified++;
          return true;
        },
      }).catch((e) => e);
      expect(error.message).toBe('failure 1');
      expect(calls).toEqual([1]);
      expect(classified).toBe(0);
    }
  });

  it('waits the delay the server asked for, capped by maxDelayMs and never negative', async () => {
    const { clock, waits } = recordingClock();
    const delays = [1500, 60_000, -5];
    const { attempt } = failing(3);
    expect(
      await withRetries(attempt, {
        policy: { maxDelayMs: 2000 },
        classify: (_error, n) => ({ afterMs: delays[n - 1]! }),
        clock,
        random: () => 0.999,
      }),
    ).toBe('done');
    expect(waits).toEqual([1500, 2000, 0]);
  });

  it('bounds the total time: no wait may end past maxElapsedMs, slow attempts counted', async () => {
    const { clock, waits, advance } = recordingClock();
    const calls: number[] = [];
    const error = await withRetries(
      async (n) => {
        calls.push(n);
        advance(400); // each attempt takes 400 ms
        throw new Error(`failure ${n}`);
      },
      {
        policy: { maxAttempts: 100, maxElapsedMs: 2000, maxDelayMs: 300 },
        classify: always({ afterMs: 300 }),
        clock,
      },
    ).catch((e) => e);
    // 400 + 300 + 400 + 300 + 400 = 1800: a further 300 ms wait would end at 2100 > 2000.
    expect(calls).toEqual([1, 2, 3]);
    expect(waits).toEqual([300, 300]);
    expect(error.message).toBe('failure 3');
  });

  it('runs on the system clock by default', async () => {
    const { attempt, calls } = failing(2);
    const started = Date.now();
    expect(
      await withRetries(attempt, {
        policy: { baseDelayMs: 5 },
        classify: always({ afterMs: 5 }),
      }),
    ).toBe('done');
    expect(calls).toEqual([1, 2, 3]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(8);
  });

  it('checks the policy before the first attempt', async () => {
    const { attempt, calls } = failing(0);
    const error = await withRetries(attempt, {
      policy: { maxAttempts: -1 },
      classify: always(true),
    }).catch((e) => e);
    expect(isInvalidArgumentError(error)).toBe(true);
    expect(calls).toEqual([]);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 9, 21, 7, 28, 0);

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
  });

  it('reads an HTTP-date as the time left until it, 0 once past', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wednesday, 21-Oct-26 07:28:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:00:00 GMT', now)).toBe(0);
  });

  it('ignores what is absent or unreadable', () => {
    for (const value of [null, undefined, '', '  ', '-1', '1.5', '1e3', 'soon', 'Fri, 99 Nope']) {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    }
  });
});
