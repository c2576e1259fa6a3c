import type { Kv, KvCommit } from '../kv/types.js';

/**
 * Presents a KV as a backend without multi-key atomicity (like a plain conditional
 * put-item store), so core takes its sequential write-and-roll-back path. It refuses any
 * commit that writes more than one key or checks a key it does not write, which proves
 * core never relies on atomicity it was not promised.
 *
 * @example
 * runConformanceSuite({ name: 'sequential', createKv: () => createNonAtomicKv(createMemoryKv()), ... });
 */
export const createNonAtomicKv = (inner: Kv): Kv => ({
  capabilities: { ...inner.capabilities, atomic: false },
  get: (keys) => inner.get(keys),
  scan: (range) => inner.scan(range),
  commit: async (commit: KvCommit) => {
    const writes = [...(commit.puts ?? []).map((p) => p.key), ...(commit.deletes ?? [])];
    const checks = commit.checks ?? [];
    if (writes.length > 1 || checks.some((c) => c.key !== writes[0])) {
      throw new Error(
        `non-atomic KV: a commit may write one key and check only that key (got writes ${writes.join(', ')}; checks ${checks.map((c) => c.key).join(', ')})`,
      );
    }
    return inner.commit(commit);
  },
  ...(inner.watch ? { watch: inner.watch.bind(inner) } : {}),
});
