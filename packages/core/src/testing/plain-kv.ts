import type { Kv } from '../kv/types.js';

/**
 * Presents an atomic KV as one that keeps no index keys (a plain ordered key-value store),
 * so core emulates them with entries of their own. It refuses any put that declares index
 * keys and any scan by index, which proves core never hands them to a backend that did not
 * declare `capabilities.indexes`.
 *
 * @example
 * runConformanceSuite({ name: 'plain', createKv: () => createPlainKv(createMemoryKv()), ... });
 */
export const createPlainKv = (inner: Kv): Kv => ({
  capabilities: { ...inner.capabilities, indexes: false },
  read: (keys, then) =>
    inner.read(
      keys,
      then &&
        ((values) => {
          const range = then(values);
          if (range?.by === 'index') throw new Error('plain KV: no scans by index');
          return range;
        }),
    ),
  write: (keys, plan) =>
    inner.write(keys, (values) => {
      const change = plan(values);
      if (change?.puts?.some((put) => put.indexKeys !== undefined)) {
        throw new Error('plain KV: puts declare no index keys');
      }
      return change;
    }),
  ...(inner.watch ? { watch: inner.watch.bind(inner) } : {}),
});
