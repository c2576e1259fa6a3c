import { type IndexName, InvalidArgumentError } from '@eventkv/core';
import { type Context, Hono } from 'hono';
import type { ApiEnv } from '../context.js';
import type { Env } from '../env.js';
import { type FeedWait, holdOwnAppends } from '../holds.js';
import { firstDelivery, parseWait } from '../long-poll.js';
import { parseInteger, queryParams } from '../params.js';
import { wire } from '../respond.js';

const INDEXES: readonly string[] = ['eventType', 'aggregateType', 'user', 'correlation'];

/** Where a database's reads wait for a caller's own appends (`AppOptions.feedWaitFor`). */
export type FeedWaitFor = (database: string, env: Env) => FeedWait | undefined;

/**
 * Database-wide routes under `/v1/{database}`: index queries and the global log. Each
 * first waits for the appends the request names in `Eventkv-Holds` (`holds.ts`).
 */
export const databaseRoutes = (feedWaitFor: FeedWaitFor | undefined) => {
  const held = (operation: string, c: Context<ApiEnv>) =>
    holdOwnAppends(operation, c.req.raw, () => feedWaitFor?.(c.get('principal').database, c.env));
  return (
    new Hono<ApiEnv>()
      .get('/query/:index/:value', async (c) => {
        const q = queryParams(c.req.url, ['since', 'until', 'limit', 'cursor']);
        const index = c.req.param('index');
        if (!INDEXES.includes(index)) {
          throw new InvalidArgumentError('index', `must be one of ${INDEXES.join(', ')}`);
        }
        const since = parseInteger('since', q.since);
        const until = parseInteger('until', q.until);
        const limit = parseInteger('limit', q.limit);
        await held('query', c);
        const page = await c.get('store').query(index as IndexName, c.req.param('value'), {
          database: c.get('principal').database,
          ...(since === undefined ? {} : { since }),
          ...(until === undefined ? {} : { until }),
          ...(limit === undefined ? {} : { limit }),
          ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
        });
        return wire(page);
      })
      // `wait` (ms, at most MAX_WAIT_MS): a long-poll. When the log holds nothing after
      // `after`, the answer waits until it does (or `wait` passes), then reads.
      .get('/log', async (c) => {
        const q = queryParams(c.req.url, ['after', 'limit', 'wait']);
        const after = parseInteger('after', q.after);
        const limit = parseInteger('limit', q.limit);
        const wait = parseWait(q.wait);
        await held('readLog', c);
        const store = c.get('store');
        const options = {
          database: c.get('principal').database,
          ...(after === undefined ? {} : { after }),
          ...(limit === undefined ? {} : { limit }),
        };
        const page = await store.readLog(options);
        if (wait === undefined || wait === 0 || page.events.length > 0) return wire(page);
        await firstDelivery(
          (listener, onError) =>
            store.subscribeLog(listener, {
              database: options.database,
              after: page.position,
              onError,
            }),
          wait,
          c.req.raw.signal,
        );
        return wire(await store.readLog(options));
      })
      // The log's position (its last event's, 0 when empty): where a tail of "what comes next"
      // starts.
      .get('/log/position', async (c) => {
        queryParams(c.req.url, []);
        await held('logPosition', c);
        return wire({
          position: await c.get('store').logPosition({ database: c.get('principal').database }),
        });
      })
  );
};
