import { createHttpEventStore, type FetchLike } from '@eventkv/client';
import { runStoreConformanceSuite } from '@eventkv/core/store-conformance';
import { freshDatabase, ORIGIN, send, tokenFor } from './helpers';
import { socketsVia } from './push-socket';

// The client over the Worker as deployed: the default 'stream' routing, where each stream
// has its object and queries, the log and its subscriptions are served by the database's
// feed (the store says so: `databaseReads: 'feed'`). The Worker's store reads its own
// writes from the feed, so the suite's database-wide checks hold up to the order in which
// streams interleave. Once with long-polls, once over push sockets.
const fetch: FetchLike = (request) => send(request);
const capabilities = {
  readLog: true,
  indexes: ['eventType', 'aggregateType', 'user', 'correlation'],
  databaseReads: 'feed',
} as const;

for (const sockets of [false, true]) {
  runStoreConformanceSuite({
    name: `http client (Worker in workerd, default 'stream' routing, ${sockets ? 'push sockets' : 'long-polls'})`,
    createStore: async () =>
      createHttpEventStore(ORIGIN, {
        token: await tokenFor(freshDatabase()),
        fetch,
        capabilities,
        WebSocket: sockets ? socketsVia(send) : false,
      }),
    // Every call is a request into the Worker and one or two objects; the full 100 model
    // runs take about 8 s.
    propertyRunScale: 1,
    shortLeaseMs: 1_000,
  });
}
