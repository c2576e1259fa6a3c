import { InvalidArgumentError, KvConditionError } from '../errors.js';
import { failedChecks, checkHolds as holds } from './equal.js';
import { resolveRange } from './range.js';
import { SortedKeys } from './sorted.js';
import type { Kv, KvChangeListener, KvCommit, KvEntry, KvScan, KvValue } from './types.js';

export interface MemoryKvOptions {
  /** Largest number of keys one commit may touch (default: unlimited). */
  readonly maxCommitKeys?: number;
}

/**
 * The in-memory reference adapter, atomic by being synchronous. Each key's value sits in
 * a cell that a Map (point reads and commit checks in O(1)) and the sorted key lists of
 * `sorted.ts` (order, for scans) share: the order is only touched when a key appears or disappears, so overwriting
 * a stream head costs no tree work, and scans read values without a lookup per key.
 * It stores the values core hands over as they are (core has frozen them) and returns
 * them without copying, which is what makes reads cheap.
 *
 * @example
 * const store = createEventStore<BankEvent>({ kv: createMemoryKv() });
 */
export const createMemoryKv = (options: MemoryKvOptions = {}): Kv => {
  const cells = new Map<string, { value: KvValue }>();
  const order = new SortedKeys<{ value: KvValue }>();
  const listeners = new Set<KvChangeListener>();
  const apply = ({ checks = [], puts = [], deletes = [] }: KvCommit): void => {
    const max = options.maxCommitKeys;
    if (max !== undefined && checks.length + puts.length + deletes.length > max) {
      throw new InvalidArgumentError('commit', `touches more than ${max} keys`);
    }
    for (const check of checks) {
      if (!holds(check, cells.get(check.key)?.value)) {
        throw new KvConditionError(
          failedChecks(
            checks,
            checks.map((c) => cells.get(c.key)?.value),
          ),
        );
      }
    }
    for (const { key, value } of puts) {
      const cell = cells.get(key);
      if (cell) {
        cell.value = value;
      } else {
        const created = { value };
        cells.set(key, created);
        order.insert(key, created);
      }
    }
    for (const key of deletes) {
      if (cells.delete(key)) order.delete(key);
    }
    if (listeners.size > 0) {
      const changed = [...puts.map((p) => p.key), ...deletes];
      for (const listener of [...listeners]) {
        try {
          listener(changed);
        } catch {
          // A listener's failure is its own; the commit has happened.
        }
      }
    }
  };
  const scanNow = (scan: KvScan): KvEntry[] => {
    const { start, end, empty } = resolveRange(scan);
    const limit = scan.limit ?? Number.POSITIVE_INFINITY;
    const out: KvEntry[] = [];
    if (empty || limit <= 0) return out;
    order.range(start, end, scan.reverse === true, (key, cell) => {
      out.push({ key, value: cell.value });
      return out.length < limit;
    });
    return out;
  };
  return {
    capabilities: {
      atomic: true,
      copiesValues: false,
      ...(options.maxCommitKeys === undefined ? {} : { maxCommitKeys: options.maxCommitKeys }),
    },
    async get(keys) {
      return keys.map((key) => cells.get(key)?.value);
    },
    async scan(scan) {
      return scanNow(scan);
    },
    async getThenScan(keys, plan) {
      const range = plan(keys.map((key) => cells.get(key)?.value));
      return range ? scanNow(range) : [];
    },
    async commit(commit) {
      apply(commit);
    },
    async update(keys, plan) {
      const commit = plan(keys.map((key) => cells.get(key)?.value));
      if (commit) apply(commit);
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
