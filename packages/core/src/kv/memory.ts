import BTreeModule from 'sorted-btree';
import { InvalidArgumentError, KvConditionError } from '../errors.js';
import { failedChecks } from './equal.js';
import { resolveRange } from './range.js';
import type { Kv, KvEntry, KvScan, KvValue } from './types.js';

// sorted-btree is CommonJS: bundlers hand over the class, Node's ESM loader the module object.
const BTree: typeof BTreeModule =
  (BTreeModule as unknown as { default?: typeof BTreeModule }).default ?? BTreeModule;

export interface MemoryKvOptions {
  /** Largest number of keys one commit may touch (default: unlimited). */
  readonly maxCommitKeys?: number;
}

/**
 * The in-memory reference adapter: an ordered B-tree, atomic by being synchronous.
 * It stores the values core hands over as they are (core has frozen them) and returns
 * them without copying, which is what makes reads cheap.
 */
export const createMemoryKv = (options: MemoryKvOptions = {}): Kv => {
  const tree = new BTree<string, KvValue>();
  return {
    capabilities: {
      atomic: true,
      copiesValues: false,
      ...(options.maxCommitKeys === undefined ? {} : { maxCommitKeys: options.maxCommitKeys }),
    },
    async get(keys) {
      return keys.map((key) => tree.get(key));
    },
    async scan(scan: KvScan) {
      const { start, end, empty } = resolveRange(scan);
      const limit = scan.limit ?? Number.POSITIVE_INFINITY;
      if (empty || limit <= 0) return [];
      const out: KvEntry[] = [];
      if (!scan.reverse) {
        for (const [key, value] of tree.entries(start)) {
          if (end !== undefined && key >= end) break;
          out.push({ key, value });
          if (out.length >= limit) break;
        }
        return out;
      }
      const from = end === undefined ? undefined : tree.nextLowerKey(end);
      if (end !== undefined && from === undefined) return out;
      for (const [key, value] of tree.entriesReversed(from)) {
        if (start !== undefined && key < start) break;
        out.push({ key, value });
        if (out.length >= limit) break;
      }
      return out;
    },
    async commit({ checks = [], puts = [], deletes = [] }) {
      const max = options.maxCommitKeys;
      if (max !== undefined && checks.length + puts.length + deletes.length > max) {
        throw new InvalidArgumentError('commit', `touches more than ${max} keys`);
      }
      const failed = failedChecks(
        checks,
        checks.map((check) => tree.get(check.key)),
      );
      if (failed.length > 0) throw new KvConditionError(failed);
      for (const { key, value } of puts) tree.set(key, value);
      for (const key of deletes) tree.delete(key);
    },
  };
};
