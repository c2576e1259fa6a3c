import { env } from 'cloudflare:workers';
import { createHttpEventStore } from '@eventkv/client';
import { runStoreConformanceSuite } from '@eventkv/core/store-conformance';
import { createDurableObjectEventStore, pushSockets } from '@eventkv/durable-object';
import { createApp, type Env } from '../src/index';
import { freshDatabase, ORIGIN, tokenFor } from './helpers';
import { socketsVia } from './push-socket';

// The client over the Worker with its push sockets: `subscribe` and `subscribeLog` take
// the socket first, so the suite's subscription tests run over the live push protocol.
// 'database' routing, as the HTTP run beside it (store-conformance.test.ts).
const app = createApp({
  storeFor: (_database, bindings) =>
    createDurableObjectEventStore(bindings.EVENT_STORE, { routing: 'database' }),
  liveFor: (_database, bindings) => pushSockets(bindings.EVENT_STORE, 'database'),
});
const via = async (request: Request) => app.fetch(request, env as unknown as Env);

runStoreConformanceSuite({
  name: "http client with push sockets (Worker in workerd, 'database' routing)",
  createStore: async () => {
    const database = freshDatabase();
    return createHttpEventStore(ORIGIN, {
      token: await tokenFor(database),
      fetch: via,
      WebSocket: socketsVia(via),
    });
  },
  propertyRunScale: 1,
  shortLeaseMs: 1_000,
});
