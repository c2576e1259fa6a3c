import { SESSION_HEADER, toWire } from '@eventkv/client';
import type { EventStream, StreamRef } from '@eventkv/core';
import type { Context } from 'hono';
import type { ApiEnv } from './context.js';

/** A superjson response body. */
export const wire = (
  value: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response =>
  new Response(toWire(value), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });

/** The stream a route addresses, in the token's database. */
export const refOf = (c: Context<ApiEnv>): StreamRef => ({
  database: c.var.principal.database,
  type: c.req.param('type') ?? '',
  id: c.req.param('id') ?? '',
});

/**
 * The handle a stream route acts through: the session named by `Eventkv-Session`
 * (resumed from its lease, so any isolate can serve it), or a session-less handle.
 */
export const streamOf = async (c: Context<ApiEnv>): Promise<EventStream> => {
  const sessionId = c.req.header(SESSION_HEADER);
  const ref = refOf(c);
  return sessionId === undefined ? c.var.store.stream(ref) : c.var.store.resume(ref, sessionId);
};
