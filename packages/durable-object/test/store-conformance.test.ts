import { env } from 'cloudflare:workers';
import { runStoreConformanceSuite } from '@eventkv/core/store-conformance';
import { createDurableObjectEventStore } from '../src/index.js';

// The store runs inside the object: every call of the suite is one RPC call into the
// database's object. A database of its own per store keeps stores apart (storage outlives a test).
runStoreConformanceSuite({
  name: "durable-object (workerd, 'database' routing)",
  createStore: () =>
    createDurableObjectEventStore(env.STORE, {
      routing: 'database',
      database: `store-${crypto.randomUUID()}`,
    }),
  // Twice the property runs (200 model histories): under a minute on a busy two-core machine.
  propertyRunScale: 2,
});
