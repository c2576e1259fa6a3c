import BTreeModule from 'sorted-btree';
import { InvalidArgumentError, KvConditionError } from '../errors.js';
import { failedChecks } from './equal.js';
import { resolveRange } from './range.js';
import type { Kv, KvChangeListener, KvCommit, KvEntry, KvScan, KvValue } from './types.js';

// sorted-btree is CommonJS: bundlers hand over the class, Node's ESM loader the module object.
const BTree: typeof BTreeModule =
  (BTreeModule as unknown as { default?: typeof BTreeModule }).default ?? BTreeModule;

// Keys are strings: plain comparison skips the generic comparator's type checks.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface MemoryKvOptions {
  /** Largest number of keys one commit may touch (default: unlimited). */
  readonly maxCommitKeys?: number;
}

/**
 * The in-memory reference adapter, atomic by being synchronous. Each key's value sits in
 * a cell that a Map (point reads and commit checks in O(1)) and a B-tree (order, for
 * scans) share: the tree is only touched when a key appears or disappears, so overwriting
 * a stream head costs no tree work, and scans read values without a lookup per key.
 * It stores the values core hands over as they are (core has frozen them) and returns
 * them without copying, which is what makes reads cheap.
 *
 * @example
 * const store = createEventStore<BankEvent>({ kv: createMemoryKv() });
 */
export const createMemoryKv = (options: MemoryKvOptions = {}): Kv => {
  const cells = new Map<string, { value: KvValue }>();
  const order = new BTree<string, { value: KvValue }>(undefined, compare);
  const listeners = new Set<KvChangeListener>();
  const apply = ({ checks = [], puts = [], deletes = [] }: KvCommit): void => {
    const max = options.maxCommitKeys;
    if (max !== undefined && checks.length + puts.length + deletes.length > max) {
      throw new InvalidArgumentError('commit', `touches more than ${max} keys`);
    }
    const failed = failedChecks(
      checks,
      checks.map((check) => cells.get(check.key)?.value),
    );
    if (failed.length > 0) throw new KvConditionError(failed);
    for (const { key, value } of puts) {
      const cell = cells.get(key);
      if (cell) {
        cell.value = value;
      } else {
        const created = { value };
        cells.set(key, created);
        order.set(key, created);
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
    if (!scan.reverse) {
      for (const [key, cell] of order.entries(start)) {
        if (end !== undefined && key >= end) break;
        out.push({ key, value: cell.value });
        if (out.length >= limit) break;
      }
      return out;
    }
    const from = end === undefined ? undefined : order.nextLowerKey(end);
    if (end !== undefined && from === undefined) return out;
    for (const [key, cell] of order.entriesReversed(from)) {
      if (start !== undefined && key < start) break;
      out.push({ key, value: cell.value });
      if (out.length >= limit) break;
    }
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
