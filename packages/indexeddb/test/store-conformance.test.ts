import { createEventStore } from '@eventkv/core';
import { type BankEvent, runStoreConformanceSuite } from '@eventkv/core/store-conformance';
import { IDBFactory } from 'fake-indexeddb';
import { createIndexedDbKv, type IndexedDbKv } from '../src/index.js';

// Each store has a fresh in-memory IndexedDB factory of its own; its connection is closed
// after the test.
const connections = new WeakMap<object, IndexedDbKv>();

runStoreConformanceSuite({
  name: 'indexeddb (fake-indexeddb)',
  createStore: () => {
    const kv = createIndexedDbKv({ name: 'store-conformance', indexedDB: new IDBFactory() });
    const store = createEventStore<BankEvent>({ kv });
    connections.set(store, kv);
    return store;
  },
  disposeStore: (store) => connections.get(store)?.close(),
  // fake-indexeddb is fast: ten times the property runs in a few seconds.
  propertyRunScale: 10,
});
