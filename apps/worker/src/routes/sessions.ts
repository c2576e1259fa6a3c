import { InvalidArgumentError, type OpenOptions, type Session } from '@eventkv/core';
import { Hono } from 'hono';
import { readBody } from '../body.js';
import type { ApiEnv } from '../context.js';
import { queryParams } from '../params.js';
import { refOf, wire } from '../respond.js';

/** A request holds its connection while `open` waits, so the wait is bounded. */
export const MAX_OPEN_TIMEOUT_MS = 10_000;

const openOptions = (body: unknown): OpenOptions => {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidArgumentError(
      'body',
      'must be an object { sessionTimeoutMs?, openTimeoutMs? }',
    );
  }
  const options = body as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (key !== 'sessionTimeoutMs' && key !== 'openTimeoutMs') {
      throw new InvalidArgumentError(
        `body.${key}`,
        'is not an open option (sessionTimeoutMs, openTimeoutMs)',
      );
    }
  }
  const wait = options.openTimeoutMs;
  if (typeof wait === 'number' && wait > MAX_OPEN_TIMEOUT_MS) {
    throw new InvalidArgumentError(
      'body.openTimeoutMs',
      `must be at most ${MAX_OPEN_TIMEOUT_MS} over HTTP`,
    );
  }
  return options as OpenOptions;
};

const info = (session: Session) => ({ sessionId: session.sessionId, expiresAt: session.expiresAt });

/** Routes under `/v1/{database}/streams/{type}/{id}/sessions`. */
export const sessionRoutes = new Hono<ApiEnv>()
  .post('/', async (c) => {
    queryParams(c.req.url, []);
    const body = await readBody(c.req.raw, c.get('settings').maxBodyBytes, false);
    const session = await c.get('store').open(refOf(c), openOptions(body));
    return wire(info(session), 201);
  })
  .get('/:sessionId', async (c) => {
    queryParams(c.req.url, []);
    return wire(info(await c.get('store').resume(refOf(c), c.req.param('sessionId'))));
  })
  .post('/:sessionId/renew', async (c) => {
    queryParams(c.req.url, []);
    const session = await c.get('store').resume(refOf(c), c.req.param('sessionId'));
    await session.renew();
    return wire(info(session));
  })
  .delete('/:sessionId', async (c) => {
    queryParams(c.req.url, []);
    const session = await c.get('store').resume(refOf(c), c.req.param('sessionId'));
    await session.close();
    return c.body(null, 204);
  });
