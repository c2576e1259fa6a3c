import { InvalidArgumentError, KvConditionError } from '../errors.js';
import { failedChecks, checkHolds as holds } from '../kv/equal.js';
import { resolveRange } from '../kv/range.js';
import type { Kv, KvChangeListener, KvCommit, KvEntry, KvScan, KvValue } from '../kv/types.js';
import { SortedKeys } from './sorted-keys.js';

const NONE: readonly never[] = [];

/** An entry of a scan by index key; a class for the reason `Entry` is (`sorted-keys.ts`). */
class IndexEntry implements KvEntry {
  readonly key: string;
  readonly value: KvValue;
  readonly indexKey: string;
  constructor(key: string, value: KvValue, indexKey: string) {
    this.key = key;
    this.value = value;
    this.indexKey = indexKey;
  }
}

export interface MemoryKvOptions {
  /** Largest number of keys one write may touch (default: unlimited). */
  readonly maxCommitKeys?: number;
}

/**
 * The in-memory reference adapter, atomic by being synchronous. Keys and values live in
 * the sorted lists of `sorted-keys.ts`, which serve point reads, write checks and scans;
 * index keys live in a second such list, from index key to record key. (Keeping them
 * itself rather than leaving them to core's emulation saves an emulated entry, its check
 * and its key string per index key: appends ran about 1.4x faster.) It stores the values
 * core hands over as they are (core has frozen them) and returns them without copying,
 * which is what makes reads cheap.
 *
 * @example
 * const store = createEventStore<BankEvent>({ kv: createMemoryKv() });
 */
export const createMemoryKv = (options: MemoryKvOptions = {}): Kv => {
  const order = new SortedKeys<KvValue>();
  /** Index key -> the key of the record that declared it. */
  const index = new SortedKeys<string>();
  const listeners = new Set<KvChangeListener>();
  /**
   * Applies a change. `write` passes the keys it read and their values: a check on one
   * of those keys (an append checks the head and lease it read) reuses the value instead
   * of searching for the key again. Nothing can change in between: all of it is synchronous.
   */
  const apply = (
    { checks = NONE, puts = NONE, deletes = NONE }: KvCommit,
    readKeys: readonly string[],
    readValues: readonly (KvValue | undefined)[],
  ): void => {
    const max = options.maxCommitKeys;
    if (max !== undefined && checks.length + puts.length + deletes.length > max) {
      throw new InvalidArgumentError('commit', `touches more than ${max} keys`);
    }
    for (const check of checks) {
      const at = readKeys.indexOf(check.key);
      if (!holds(check, at >= 0 ? readValues[at] : order.get(check.key))) {
        throw new KvConditionError(
          failedChecks(
            checks,
            checks.map((c) => order.get(c.key)),
          ),
        );
      }
    }
    // Each index key is claimed with one search that inserts it where it ends (`add`), and
    // the claims are undone on a clash, instead of a search to check and one to insert.
    const clashes: string[] = [];
    const claimed: string[] = [];
    for (const { key, indexKeys } of puts) {
      if (indexKeys === undefined) continue;
      for (const indexKey of indexKeys) {
        const holder = index.add(indexKey, key);
        if (holder === undefined) claimed.push(indexKey);
        else if (
          holder === key ||
          // A holder whose record is gone (damage) gives the key up; one of this very write,
          // not written yet, does not: two puts of a write claiming a key is a clash.
          (order.get(holder) === undefined && !claimed.includes(indexKey))
        ) {
          index.set(indexKey, key);
        } else clashes.push(indexKey);
      }
    }
    if (clashes.length > 0) {
      for (const indexKey of claimed) index.delete(indexKey);
      throw new KvConditionError(clashes);
    }
    for (const { key, value } of puts) order.set(key, value);
    for (const key of deletes) order.delete(key);
    if (listeners.size > 0) {
      const changed = [...puts.map((p) => p.key), ...deletes];
      for (const listener of [...listeners]) {
        try {
          listener(changed);
        } catch {
          // A listener's failure is its own; the write has happened.
        }
      }
    }
  };
  const scanNow = (scan: KvScan): KvEntry[] => {
    const { start, end, empty } = resolveRange(scan);
    if (empty) return [];
    const limit = scan.limit ?? Number.POSITIVE_INFINITY;
    if (scan.by !== 'index') return order.entries(start, end, scan.reverse === true, limit);
    // An index key whose record was deleted (outside the contract, as damage) went with it.
    const out: KvEntry[] = [];
    for (const { key: indexKey, value: key } of index.entries(
      start,
      end,
      scan.reverse === true,
      limit,
    )) {
      const value = order.get(key);
      if (value !== undefined) out.push(new IndexEntry(key, value, indexKey));
    }
    return out;
  };
  return {
    capabilities:
      options.maxCommitKeys === undefined
        ? { atomic: true, copiesValues: false, indexes: true }
        : {
            atomic: true,
            copiesValues: false,
            indexes: true,
            maxCommitKeys: options.maxCommitKeys,
          },
    async read(keys, then) {
      const values = keys.map((key) => order.get(key));
      const range = then?.(values.slice());
      return { values, entries: range ? scanNow(range) : [] };
    },
    async write(keys, plan) {
      const values = keys.map((key) => order.get(key));
      const change = plan(values.slice());
      if (change) apply(change, keys, values);
    },
    watch(listener) {
      const entry: KvChangeListener = (keys) => listener(keys);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
  };
};
