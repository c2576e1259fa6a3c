import type { SyncEdge } from '@eventkv/sync/edge';
import { type Context, Hono } from 'hono';
import { readBody } from '../body.js';
import type { ApiEnv } from '../context.js';
import type { Env } from '../env.js';
import { fail } from '../failures.js';
import { wire } from '../respond.js';

/** The sync edge of a database (`AppOptions.syncFor`). */
export type SyncFor = (database: string, env: Env) => SyncEdge;

/**
 * Routes under `/v1/{database}/sync` (the protocol: packages/sync/PROTOCOL.md). The
 * database is the token's and the user its `sub` claim, never the message's: a client id
 * is bound to the user who first pushed with it.
 */
export const syncRoutes = (syncFor: SyncFor | undefined) => {
  const serve = (kind: 'push' | 'pull') => async (c: Context<ApiEnv>) => {
    const { database, subject } = c.var.principal;
    if (typeof subject !== 'string' || subject.length === 0) {
      return fail('UNAUTHORIZED', 'Sync needs a token whose sub claim names the user.');
    }
    const body = await readBody(c.req.raw, c.var.settings.maxBodyBytes, true);
    if (syncFor === undefined) return fail('ROUTE_NOT_FOUND', 'This server does not serve sync.');
    const edge = syncFor(database, c.env);
    const principal = { database, user: subject };
    return wire(
      kind === 'push' ? await edge.push(principal, body) : await edge.pull(principal, body),
    );
  };
  return new Hono<ApiEnv>().post('/push', serve('push')).post('/pull', serve('pull'));
};
