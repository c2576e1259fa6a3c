import { type KvEntry, type KvScan, type KvValue, resolveRange } from '@eventkv/core/kv';
import type { Transact } from './transact.js';

/**
 * Every read, in one readonly transaction: point reads of `keys`, then the range `plan`
 * derives from their values (none when it returns undefined), so a stream's head and the
 * events it covers are read together. Forward scans, and reverse scans without a limit,
 * read keys and values in two bulk requests; a reverse scan with a limit walks a `prev`
 * cursor so it reads only the entries it returns.
 */
export const read = (
  transact: Transact,
  keyRange: typeof IDBKeyRange,
  keys: readonly string[],
  plan: (values: (KvValue | undefined)[]) => KvScan | undefined,
): Promise<{ values: (KvValue | undefined)[]; entries: KvEntry[] }> =>
  transact('read', 'readonly', async (tx) => {
    const store = tx.store;
    const values = await Promise.all(keys.map((key) => store.get(key)));
    const range = plan(values);
    const { start, end, empty } = resolveRange(range ?? {});
    const { limit, reverse } = range ?? {};
    let entries: KvEntry[] = [];
    if (range && !empty && (limit ?? 1) > 0) {
      // Every key is a string and '' the least of them, so `start ?? ''` bounds nothing.
      const from = start ?? '';
      const query =
        end === undefined ? keyRange.lowerBound(from) : keyRange.bound(from, end, false, true);
      if (reverse && limit !== undefined) {
        let cursor = await store.openCursor(query, 'prev');
        while (cursor && entries.length < limit) {
          entries.push({ key: cursor.key, value: cursor.value });
          cursor = await cursor.continue();
        }
      } else {
        const [found, stored] = await Promise.all([
          store.getAllKeys(query, limit),
          store.getAll(query, limit),
        ]);
        entries = found.map((key, i) => ({ key, value: stored[i] }));
        if (reverse) entries.reverse();
      }
    }
    return { values, entries };
  });
