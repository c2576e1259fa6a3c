import { createEventStore, createMemoryKv } from '../src/index.js';
import { runStoreConformanceSuite } from '../src/store-conformance/index.js';

runStoreConformanceSuite({
  name: 'memory',
  createStore: () => createEventStore({ kv: createMemoryKv() }),
});

// Stores that declare less: the suite registers the log and index tests from what each
// declares, and checks that what is not declared is refused.
runStoreConformanceSuite({
  name: 'memory, two indexes',
  createStore: () => createEventStore({ kv: createMemoryKv(), indexes: ['user', 'correlation'] }),
});

runStoreConformanceSuite({
  name: 'memory, no global log',
  createStore: () => createEventStore({ kv: createMemoryKv(), globalLog: false, indexes: false }),
});
