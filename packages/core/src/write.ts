import { isKvConditionError, StorageError } from './errors.js';
import type { Guard } from './guard.js';
import { kvCommit, kvGet } from './io.js';
import type { KvCheck, KvCommit, KvValue } from './kv/types.js';
import type { Context } from './options.js';
import { asLease } from './records.js';

/** Give up after this many conditional commits lost to concurrent writers (never on a version). */
const MAX_ATTEMPTS = 100;

/** Throws once `attempt` lost races are too many for `operation` to keep retrying. */
export const giveUpAfter = (operation: string, attempt: number): void => {
  if (attempt >= MAX_ATTEMPTS) {
    throw new StorageError(operation, {
      detail: `gave up after ${attempt} attempts lost to concurrent writers`,
    });
  }
};

/** Reads the stream's lease and returns the condition a write by `guard` commits with. */
export const readLeaseCheck = async (
  ctx: Context,
  guard: Guard,
  leaseKey: string,
): Promise<KvCheck> => {
  const [raw] = await kvGet(ctx, [leaseKey]);
  return guard.leaseCheck(leaseKey, asLease(leaseKey, raw), ctx.clock.now());
};

/**
 * A write other than an append (snapshots, their deletion): reads the lease and `keys`
 * in one batch, lets `build` plan the commit with the lease condition, and re-plans when
 * a condition lost a race. `build` returns undefined when there is nothing to write.
 */
export const writeGuarded = async (
  ctx: Context,
  guard: Guard,
  leaseKey: string,
  keys: readonly string[],
  build: (values: (KvValue | undefined)[], leaseCheck: KvCheck) => KvCommit | undefined,
): Promise<void> => {
  for (let attempt = 1; ; attempt++) {
    await guard.assertUsable();
    const [rawLease, ...values] = await kvGet(ctx, [leaseKey, ...keys]);
    const leaseCheck = guard.leaseCheck(leaseKey, asLease(leaseKey, rawLease), ctx.clock.now());
    const plan = build(values, leaseCheck);
    if (!plan) return;
    try {
      await kvCommit(ctx, plan);
      return;
    } catch (error) {
      if (!isKvConditionError(error)) throw error;
      giveUpAfter('write', attempt);
    }
  }
};
