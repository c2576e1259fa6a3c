import { isKvConditionError, StorageError } from './errors.js';
import type { Guard } from './guard.js';
import { kvCommit, kvGet } from './io.js';
import type { KvCheck, KvCommit, KvValue } from './kv/types.js';
import type { Context } from './options.js';
import { asLease } from './records.js';

const MAX_ATTEMPTS = 100;

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
    guard.assertUsable();
    const [rawLease, ...values] = await kvGet(ctx, [leaseKey, ...keys]);
    const leaseCheck = guard.leaseCheck(leaseKey, asLease(leaseKey, rawLease), ctx.clock.now());
    const plan = build(values, leaseCheck);
    if (!plan) return;
    try {
      await kvCommit(ctx, plan);
      return;
    } catch (error) {
      if (!isKvConditionError(error)) throw error;
      if (attempt >= MAX_ATTEMPTS) {
        throw new StorageError('write', {
          detail: `gave up after ${attempt} attempts lost to concurrent writers`,
        });
      }
    }
  }
};
