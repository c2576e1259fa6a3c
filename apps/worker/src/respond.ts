import { SESSION_HEADER } from '@eventkv/client';
import { type EventStream, type StreamRef, storedToWire } from '@eventkv/core';
import type { Context } from 'hono';
import type { ApiEnv } from './context.js';

/** A response of wire JSON text, written already (`Content-Type: application/json`). */
export const wireText = (
  text: string,
  status = 200,
  headers: Record<string, string> = {},
): Response =>
  new Response(text, {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });

/**
 * A wire JSON response body. A stored record that cannot be written as wire JSON is the
 * `CorruptRecordError` naming it (core's `storedToWire`), never an internal error.
 */
export const wire = (
  value: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response => wireText(storedToWire(value), status, headers);

/** The stream a route addresses, in the token's database. */
export const refOf = (c: Context<ApiEnv>): StreamRef => ({
  database: c.get('principal').database,
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
  return sessionId === undefined
    ? c.get('store').stream(ref)
    : c.get('store').resume(ref, sessionId);
};
