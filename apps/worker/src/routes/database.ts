import { type IndexName, InvalidArgumentError } from '@eventkv/core';
import { Hono } from 'hono';
import type { ApiEnv } from '../context.js';
import { parseInteger, queryParams } from '../params.js';
import { wire } from '../respond.js';

const INDEXES: readonly string[] = ['eventType', 'aggregateType', 'user', 'correlation'];

/** Database-wide routes under `/v1/{database}`: index queries and the global log. */
export const databaseRoutes = new Hono<ApiEnv>()
  .get('/query/:index/:value', async (c) => {
    const q = queryParams(c.req.url, ['since', 'until', 'limit', 'cursor']);
    const index = c.req.param('index');
    if (!INDEXES.includes(index)) {
      throw new InvalidArgumentError('index', `must be one of ${INDEXES.join(', ')}`);
    }
    const since = parseInteger('since', q.since);
    const until = parseInteger('until', q.until);
    const limit = parseInteger('limit', q.limit);
    const page = await c.get('store').query(index as IndexName, c.req.param('value'), {
      database: c.get('principal').database,
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
      ...(limit === undefined ? {} : { limit }),
      ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
    });
    return wire(page);
  })
  .get('/log', async (c) => {
    const q = queryParams(c.req.url, ['after', 'limit']);
    const after = parseInteger('after', q.after);
    const limit = parseInteger('limit', q.limit);
    return wire(
      await c.get('store').readLog({
        database: c.get('principal').database,
        ...(after === undefined ? {} : { after }),
        ...(limit === undefined ? {} : { limit }),
      }),
    );
  });
