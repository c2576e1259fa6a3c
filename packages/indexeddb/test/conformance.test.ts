import { runConformanceSuite } from '@eventkv/core/conformance';
import { IDBFactory } from 'fake-indexeddb';
import { createIndexedDbKv, type IndexedDbKv } from '../src/index.js';

runConformanceSuite({
  name: 'indexeddb (fake-indexeddb)',
  // A fresh in-memory factory per test: nothing is shared between tests.
  createKv: () => createIndexedDbKv({ name: 'conformance', indexedDB: new IDBFactory() }),
  disposeKv: (kv) => (kv as IndexedDbKv).close(),
  capabilities: { atomic: true, copiesValues: true, indexes: true },
});
