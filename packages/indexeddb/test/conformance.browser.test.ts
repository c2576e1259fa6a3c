import { runConformanceSuite } from '@eventkv/core/conformance';
import { deleteDB } from 'idb';
import { createIndexedDbKv, type IndexedDbKv } from '../src/index.js';
import { uniqueName } from './support/databases.js';

runConformanceSuite({
  name: 'indexeddb (Chromium)',
  createKv: () => createIndexedDbKv({ name: uniqueName('conformance') }),
  disposeKv: async (kv) => {
    await (kv as IndexedDbKv).close();
    await deleteDB((kv as IndexedDbKv).name);
  },
  capabilities: { atomic: true, copiesValues: true, indexes: true },
  // Every commit is a real, flushed IndexedDB transaction: 60 model runs instead of 300
  // keep this project near a minute on a busy two-core machine. The Node project runs all.
  propertyRunScale: 0.2,
});
