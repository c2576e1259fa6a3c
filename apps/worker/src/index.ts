import { createDurableObjectEventStore, type Routing } from '@eventkv/durable-object';
import { createApp } from './app.js';
import type { Env } from './env.js';

export { EventStoreObject } from '@eventkv/durable-object';
export type { AppOptions } from './app.js';
export { createApp } from './app.js';
export type { Env } from './env.js';
export type { ApiSettings, AuthSettings } from './settings.js';
export { settingsFromEnv } from './settings.js';

/** `ROUTING`: `database` serves queries and the log; anything else is the default, `stream`. */
export const routingOf = (env: Env): Routing =>
  env.ROUTING === 'database' ? 'database' : 'stream';

/** The Worker: the HTTP API over the `EventStoreObject`s bound as `EVENT_STORE`. */
export default createApp({
  storeFor: (_database, env) =>
    createDurableObjectEventStore(env.EVENT_STORE, { routing: routingOf(env) }),
});
