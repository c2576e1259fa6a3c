import { createEventStore } from '@eventkv/core';
import { type BankEvent, runStoreConformanceSuite } from '@eventkv/core/store-conformance';
import { deleteDB } from 'idb';
import { createIndexedDbKv, type IndexedDbKv } from '../src/index.js';
import { uniqueName } from './support/databases.js';

// Chromium's own IndexedDB: a database of its own per store, deleted after the test.
const connections = new WeakMap<object, IndexedDbKv>();

runStoreConformanceSuite({
  name: 'indexeddb (Chromium)',
  createStore: () => {
    const kv = createIndexedDbKv({ name: uniqueName('store-conformance') });
    const store = createEventStore<BankEvent>({ kv });
    connections.set(store, kv);
    return store;
  },
  disposeStore: async (store) => {
    const kv = connections.get(store);
    if (kv === undefined) return;
    await kv.close();
    await deleteDB(kv.name);
  },
  // Real, flushed transactions: eight times the property runs keep the file near a minute.
  propertyRunScale: 8,
});
