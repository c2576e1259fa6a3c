import type { EventStore } from '@eventkv/core';
import type { Principal } from './auth.js';
import type { Env } from './env.js';
import type { ApiSettings } from './settings.js';

/**
 * Hono's typing of the app: bindings and what middleware hands to the routes. Routes read the
 * variables with `c.get(name)`, not `c.var.name`: Hono builds `c.var` anew from its map on
 * every access (`Object.fromEntries`), a few objects per request for nothing.
 */
export interface ApiEnv {
  Bindings: Env;
  Variables: {
    settings: ApiSettings;
    principal: Principal;
    store: EventStore;
  };
}
