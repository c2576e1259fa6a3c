import type { EventStore } from '@eventkv/core';
import type { Principal } from './auth.js';
import type { Env } from './env.js';
import type { ApiSettings } from './settings.js';

/** Hono's typing of the app: bindings and what middleware hands to the routes. */
export interface ApiEnv {
  Bindings: Env;
  Variables: {
    settings: ApiSettings;
    principal: Principal;
    store: EventStore;
  };
}
