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
  // Sessions that tests wait out live a second: each call is a request into an object.
  shortLeaseMs: 1_000,
});

// One object per stream, each delivering its events to the database's object (the feed),
// which serves the global log and the queries (`databaseReads: 'feed'`).
runStoreConformanceSuite({
  name: "durable-object (workerd, 'stream' routing with the database feed)",
  createStore: () =>
    createDurableObjectEventStore(env.STORE, {
      routing: 'stream',
      database: `feed-${crypto.randomUUID()}`,
    }),
  // The full 100 model runs (about 5 s): every call is an RPC to a stream object or the
  // feed.
  propertyRunScale: 1,
  shortLeaseMs: 1_000,
});
