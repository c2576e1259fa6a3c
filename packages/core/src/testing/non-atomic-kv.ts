import type { Kv } from '../kv/types.js';

/**
 * Presents a KV as a backend without multi-key atomicity (like a plain conditional
 * put-item store), so core takes its sequential write-and-roll-back path. It refuses any
 * write that reads keys, writes more than one key or checks a key it does not write,
 * which proves core never relies on atomicity it was not promised. It keeps no index
 * keys either (core emulates them, as for any plain store).
 *
 * @example
 * runConformanceSuite({ name: 'sequential', createKv: () => createNonAtomicKv(createMemoryKv()), ... });
 */
export const createNonAtomicKv = (inner: Kv): Kv => ({
  capabilities: { ...inner.capabilities, atomic: false, indexes: false },
  read: (keys, then) => inner.read(keys, then),
  write: async (keys, plan) => {
    if (keys.length > 0) {
      throw new Error(`non-atomic KV: a write reads no keys (got ${keys.join(', ')})`);
    }
    const commit = plan([]);
    if (!commit) return;
    const writes = [...(commit.puts ?? []).map((p) => p.key), ...(commit.deletes ?? [])];
    const checks = commit.checks ?? [];
    if (
      writes.length > 1 ||
      checks.some((c) => c.key !== writes[0]) ||
      (commit.puts ?? []).some((p) => p.indexKeys !== undefined)
    ) {
      throw new Error(
        `non-atomic KV: a write may write one key, without index keys, and check only that key (got writes ${writes.join(', ')}; checks ${checks.map((c) => c.key).join(', ')})`,
      );
    }
    return inner.write(keys, () => commit);
  },
  ...(inner.watch ? { watch: inner.watch.bind(inner) } : {}),
});
