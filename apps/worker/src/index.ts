import { InvalidArgumentError } from '@eventkv/core';
import { createDurableObjectEventStore, type Routing, syncObject } from '@eventkv/durable-object';
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
  // The sync edge lives in the database's object, which holds the streams only under
  // 'database' routing; under 'stream' routing it would see none of them.
  syncFor: (database, env) => {
    if (routingOf(env) !== 'database') {
      throw new InvalidArgumentError(
        'routing',
        "sync needs ROUTING=database (the database's Durable Object holds its streams and " +
          'serves the sync edge); this Worker runs with ROUTING=stream',
      );
    }
    return syncObject(env.EVENT_STORE, database);
  },
});
