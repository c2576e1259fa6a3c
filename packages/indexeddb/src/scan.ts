import { type KvEntry, type KvScan, resolveRange } from '@eventkv/core';
import type { Transact } from './transact.js';

/**
 * An ordered range read in one readonly transaction. Forward scans, and reverse scans
 * without a limit, read keys and values in two bulk requests; a reverse scan with a limit
 * walks a `prev` cursor so it reads only the entries it returns.
 */
export const scan = async (
  transact: Transact,
  keyRange: typeof IDBKeyRange,
  range: KvScan,
): Promise<KvEntry[]> => {
  const { start, end, empty } = resolveRange(range);
  const { limit, reverse } = range;
  if (empty || (limit !== undefined && limit <= 0)) return [];
  // Every key is a string and '' the least of them, so `start ?? ''` bounds nothing.
  const from = start ?? '';
  const query =
    end === undefined ? keyRange.lowerBound(from) : keyRange.bound(from, end, false, true);
  return transact('scan', 'readonly', async (tx) => {
    const store = tx.store;
    if (reverse && limit !== undefined) {
      const out: KvEntry[] = [];
      let cursor = await store.openCursor(query, 'prev');
      while (cursor && out.length < limit) {
        out.push({ key: cursor.key, value: cursor.value });
        cursor = await cursor.continue();
      }
      return out;
    }
    const [keys, values] = await Promise.all([
      store.getAllKeys(query, limit),
      store.getAll(query, limit),
    ]);
    const out = keys.map((key, i) => ({ key, value: values[i] }));
    return reverse ? out.reverse() : out;
  });
};
