import { checkName } from '@eventkv/core';
import type { LivePrincipal } from '@eventkv/durable-object';
import { LIVE_SUBPROTOCOL, type SyncEdge } from '@eventkv/sync/edge';
import { type Context, Hono } from 'hono';
import { readBody } from '../body.js';
import type { ApiEnv } from '../context.js';
import type { Env } from '../env.js';
import { fail } from '../failures.js';
import { wire } from '../respond.js';
import { requireUpgrade, upgraded } from '../upgrade.js';

/** The sync edge of a database, and where its live sockets go (absent: no live route). */
export interface SyncService extends SyncEdge {
  live?(principal: LivePrincipal, request: Request): Promise<Response>;
}

/** The sync edge of a database (`AppOptions.syncFor`). */
export type SyncFor = (database: string, env: Env) => SyncService;

/** The verified principal of a sync request: the token's database and its `sub`. */
const principalOf = (c: Context<ApiEnv>) => {
  const { database, subject, expiresAt } = c.get('principal');
  if (typeof subject !== 'string' || subject.length === 0) {
    return fail('UNAUTHORIZED', 'Sync needs a token whose sub claim names the user.');
  }
  return { database, user: subject, expiresAt };
};

/**
 * Routes under `/v1/{database}/sync` (the protocol: packages/sync/PROTOCOL.md). The
 * database is the token's and the user its `sub` claim, never the message's: a client id
 * is bound to the user who first pushed with it.
 */
export const syncRoutes = (syncFor: SyncFor | undefined) => {
  const serviceOf = (c: Context<ApiEnv>): SyncService => {
    if (syncFor === undefined) return fail('ROUTE_NOT_FOUND', 'This server does not serve sync.');
    return syncFor(c.get('principal').database, c.env);
  };
  const serve = (kind: 'push' | 'pull' | 'wait') => async (c: Context<ApiEnv>) => {
    const { database, user } = principalOf(c);
    const body = await readBody(c.req.raw, c.get('settings').maxBodyBytes, true);
    const edge = serviceOf(c);
    const principal = { database, user };
    return wire(await edge[kind](principal, body));
  };
  return new Hono<ApiEnv>()
    .post('/push', serve('push'))
    .post('/pull', serve('pull'))
    .post('/wait', serve('wait'))
    .get('/live', async (c) => {
      const principal = principalOf(c);
      requireUpgrade(c, LIVE_SUBPROTOCOL);
      const service = serviceOf(c);
      if (service.live === undefined) {
        return fail('ROUTE_NOT_FOUND', 'This server has no live sync sockets.');
      }
      const clientId = c.req.query('clientId');
      // It travels in the socket's attachment (at most 2 KiB): a name, as a push's clientId.
      if (clientId) checkName('clientId', clientId);
      return upgraded(
        await service.live({ ...principal, ...(clientId ? { clientId } : {}) }, c.req.raw),
      );
    });
};
