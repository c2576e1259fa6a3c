import { failedChecks, type KvCommit, KvConditionError, type KvValue } from '@eventkv/core/kv';
import { unwrap } from 'idb';
import type { Transact } from './transact.js';

/**
 * One `readwrite` transaction: read `keys`, let `plan` decide the commit from their values,
 * verify its checks (a checked key already read is not read again), then queue every put
 * and delete and wait for the transaction to complete. Nothing but IndexedDB requests is
 * awaited inside it (an unrelated await would let it auto-commit half-way), and `plan` is
 * synchronous. Any failure aborts it (see `createTransact`), and an aborted transaction
 * leaves no trace. Resolves with the changed keys.
 */
export const update = async (
  transact: Transact,
  keys: readonly string[],
  plan: (values: (KvValue | undefined)[]) => KvCommit | undefined,
): Promise<string[]> => {
  let changed: string[] = [];
  await transact('commit', 'readwrite', async (tx) => {
    const store = tx.store;
    const values = await Promise.all(keys.map((key) => store.get(key)));
    // What it throws aborts the transaction (an error of the caller's own comes back as
    // a StorageError with it as `cause`, see `createTransact`).
    const change = plan(values);
    if (!change) return;
    const { checks = [], puts = [], deletes = [] } = change;
    changed = [...puts.map((put) => put.key), ...deletes];
    const failed = failedChecks(
      checks,
      await Promise.all(
        checks.map((check) => {
          const i = keys.indexOf(check.key);
          return i < 0 ? store.get(check.key) : values[i];
        }),
      ),
    );
    if (failed.length > 0) throw new KvConditionError(failed);
    // Raw requests: a failing one aborts the transaction, which `done` reports.
    const raw = unwrap(store);
    for (const { key, value } of puts) raw.put(value, key);
    for (const key of deletes) raw.delete(key);
    await tx.done;
  });
  return changed;
};
