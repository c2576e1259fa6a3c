import { createHttpEventStore, type FetchLike } from '@eventkv/client';
import { runStoreConformanceSuite } from '@eventkv/core/store-conformance';
import { freshDatabase, ORIGIN, sendDatabaseRouted, tokenFor } from './helpers';

// The client over the Worker's HTTP API with 'database' routing (one object per database),
// the configuration that serves queries and the global log, so every route is exercised.
// Each store gets a database of its own and a token for it (its `db` claim).
const fetch: FetchLike = (request) => sendDatabaseRouted(request);

runStoreConformanceSuite({
  name: "http client (Worker in workerd, 'database' routing)",
  createStore: async () => {
    const database = freshDatabase();
    return createHttpEventStore(ORIGIN, { token: await tokenFor(database), fetch });
  },
  // Each call is an HTTP request into the Worker and an RPC call into the object: the
  // default 100 model runs take about 20 s, most of the file's minute.
  propertyRunScale: 1,
  // Sessions that tests wait out live a second: each call is a request into the Worker.
  shortLeaseMs: 1_000,
});
