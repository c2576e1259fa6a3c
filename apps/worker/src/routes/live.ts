import { InvalidArgumentError, PUSH_BUFFER, PUSH_SUBPROTOCOL } from '@eventkv/core';
import { type PushSockets, type PushSubscription, pushSockets } from '@eventkv/durable-object';
import { type Context, Hono } from 'hono';
import type { ApiEnv } from '../context.js';
import type { Env } from '../env.js';
import { fail } from '../failures.js';
import { parseInteger, queryParams } from '../params.js';
import { refOf } from '../respond.js';
import { requireUpgrade, upgraded } from '../upgrade.js';

/** Where a database's push sockets go (`AppOptions.liveFor`); `undefined`: no live routes. */
export type LiveFor = (database: string, env: Env) => PushSockets | undefined;

/**
 * The default: the objects of the `EVENT_STORE` binding under the Worker's `ROUTING` (read as
 * `routingOf` in index.ts reads it), none when there is no such binding (an app built over
 * another store).
 */
export const liveFromEnv: LiveFor = (_database, env) => {
  const namespace = env.EVENT_STORE as unknown;
  if (typeof namespace !== 'object' || namespace === null) return undefined;
  return pushSockets(env.EVENT_STORE, env.ROUTING === 'database' ? 'database' : 'stream');
};

/** `buffer`: the most unacknowledged events the client wants (default and at most 1000). */
const bufferOf = (raw: string | undefined): number | undefined => {
  const buffer = parseInteger('buffer', raw);
  if (buffer !== undefined && (buffer < 1 || buffer > PUSH_BUFFER.maxEvents)) {
    throw new InvalidArgumentError('buffer', `must be from 1 to ${PUSH_BUFFER.maxEvents}`);
  }
  return buffer;
};

const required = (field: string, raw: string | undefined, min: number): number => {
  const value = parseInteger(field, raw);
  if (value === undefined || value < min) {
    throw new InvalidArgumentError(field, `is required: an integer of at least ${min}`);
  }
  return value;
};

/**
 * Live push (the protocol: `push-protocol.ts` in `@eventkv/core`): a WebSocket that pushes
 * the events of a stream (`GET .../streams/{type}/{id}/live?from=V`) or of the database's
 * log (`GET .../log/live?after=P`). Authenticated and authorized as the matching reads
 * (the token's database; a browser offers the token as a `bearer.<jwt>` subprotocol); the
 * token's expiry goes with the socket, which is closed once it has passed.
 */
export const liveRoutes = (liveFor: LiveFor) => {
  const open = async (c: Context<ApiEnv>, subscription: PushSubscription): Promise<Response> => {
    requireUpgrade(c, PUSH_SUBPROTOCOL);
    const sockets = liveFor(c.get('principal').database, c.env);
    if (sockets === undefined) return fail('ROUTE_NOT_FOUND', 'This server has no live push.');
    return upgraded(await sockets.open(subscription, c.req.raw));
  };
  return new Hono<ApiEnv>()
    .get('/streams/:type/:id/live', (c) => {
      const q = queryParams(c.req.url, ['from', 'buffer']);
      const buffer = bufferOf(q.buffer);
      const { database, type, id } = refOf(c) as { database: string; type: string; id: string };
      return open(c, {
        kind: 'stream',
        ref: { database, type, id },
        from: required('from', q.from, 1),
        expiresAt: c.get('principal').expiresAt,
        ...(buffer === undefined ? {} : { buffer }),
      });
    })
    .get('/log/live', (c) => {
      const q = queryParams(c.req.url, ['after', 'buffer']);
      const buffer = bufferOf(q.buffer);
      return open(c, {
        kind: 'log',
        database: c.get('principal').database,
        after: required('after', q.after, 0),
        expiresAt: c.get('principal').expiresAt,
        ...(buffer === undefined ? {} : { buffer }),
      });
    });
};
