import type { EventStore } from '@eventkv/core';
import {
  EventStoreObject as BaseStoreObject,
  createDurableObjectEventStore,
  type EventStoreObjectNamespace,
  feedHolds,
  type Routing,
  syncObject,
} from '@eventkv/durable-object';
import { createApp } from './app.js';
import type { Env } from './env.js';

/**
 * The object wrangler deploys (`EVENT_STORE`): the package's, with each stream object
 * delivering its events to its database's object, the feed that serves `query` and `log`
 * under the default per-stream routing.
 */
export class EventStoreObject extends BaseStoreObject<Env> {
  protected override feedNamespace(): EventStoreObjectNamespace {
    return this.env.EVENT_STORE;
  }
}
export type { AppOptions } from './app.js';
export { createApp } from './app.js';
export type { Env } from './env.js';
export type { FeedWait, OwnAppend } from './holds.js';
export type { FeedWaitFor } from './routes/database.js';
export type { ApiSettings, AuthSettings } from './settings.js';
export { settingsFromEnv } from './settings.js';

/**
 * `ROUTING`: `database` (one object per database); anything else is the default, `stream`
 * (one object per stream; queries, the log and sync pulls from the database's feed).
 */
export const routingOf = (env: Env): Routing =>
  env.ROUTING === 'database' ? 'database' : 'stream';

// One store per namespace binding and routing, made on the first request that needs it: the
// store keeps nothing per request, and making one (options checked, closures, capabilities)
// on every request was Worker CPU spent for nothing.
const stores = new WeakMap<object, Partial<Record<Routing, EventStore>>>();

/** The Worker: the HTTP API over the `EventStoreObject`s bound as `EVENT_STORE`. */
export default createApp({
  storeFor: (_database, env) => {
    const routing = routingOf(env);
    const namespace = env.EVENT_STORE;
    // Not a binding: made (and refused, naming the namespace) as before.
    if (typeof namespace !== 'object' || namespace === null) {
      return createDurableObjectEventStore(namespace, { routing });
    }
    let byRouting = stores.get(namespace);
    if (byRouting === undefined) {
      byRouting = {};
      stores.set(namespace, byRouting);
    }
    byRouting[routing] ??= createDurableObjectEventStore(namespace, { routing });
    return byRouting[routing];
  },
  // The sync edge lives in the database's object under either routing: under 'stream' it
  // is the database's feed, and pushes append in the stream objects (see syncObject).
  syncFor: (database, env) => syncObject(env.EVENT_STORE, database, { routing: routingOf(env) }),
  // Under 'stream' routing a read comes from the feed, which holds an append once its
  // stream object delivered it: a caller's appends made through another instance of the
  // Worker are waited for there.
  feedWaitFor: (database, env) =>
    routingOf(env) === 'stream'
      ? (appends) => feedHolds(env.EVENT_STORE, database, appends)
      : undefined,
});
