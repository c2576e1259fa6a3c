import { HOLDS_HEADER, SESSION_HEADER } from '@eventkv/client';
import type { EventStore } from '@eventkv/core';
import { type Context, Hono } from 'hono';
import { cors } from 'hono/cors';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { authenticate, authorizationOf } from './auth.js';
import type { ApiEnv } from './context.js';
import type { Env } from './env.js';
import { errorResponse, fail, httpFailure } from './failures.js';
import { decodeSegment } from './params.js';
import { createRateLimiter, type RateLimiter } from './rate-limit.js';
import { databaseRoutes, type FeedWaitFor } from './routes/database.js';
import { eventRoutes } from './routes/events.js';
import { type LiveFor, liveFromEnv, liveRoutes } from './routes/live.js';
import { sessionRoutes } from './routes/sessions.js';
import { snapshotRoutes } from './routes/snapshots.js';
import { type SyncFor, syncRoutes } from './routes/sync.js';
import { type ApiSettings, cachedSettingsFromEnv } from './settings.js';

export interface AppOptions {
  /** The store that serves a request (its database is `database`). */
  readonly storeFor: (database: string, env: Env) => EventStore;
  /** Settings per request (default: read from the Worker's vars and secrets). */
  readonly settings?: (env: Env) => ApiSettings;
  /**
   * The sync edge of a database, for `POST /v1/{database}/sync/push|pull` (absent: those
   * routes answer 404). May throw, e.g. `InvalidArgumentError` where sync is not served.
   */
  readonly syncFor?: SyncFor;
  /**
   * Where the live push sockets of a database go (`GET .../live`; default `liveFromEnv`:
   * the `EVENT_STORE` objects under `ROUTING`). Returning `undefined`: those routes answer 404.
   */
  readonly liveFor?: LiveFor;
  /**
   * How a database's reads (`query`, `log`, `log/position`) wait for the caller's own
   * appends named in `Eventkv-Holds` (`holds.ts`): under `stream` routing, until the
   * database's feed holds them (`feedHolds`). Absent, or returning `undefined`: reads come
   * from the store the appends went to, and the header is only checked.
   */
  readonly feedWaitFor?: FeedWaitFor;
}

/**
 * The raw path, undecoded: routing splits on real `/` only, so `%2F` inside a name never
 * becomes a separator, and each parameter is decoded exactly once (by `c.req.param`).
 */
const rawPath = (request: Request): string => {
  const url = request.url;
  const start = url.indexOf('/', url.indexOf('://') + 3);
  // The first '?' or '#' after it, found without copying the rest of the URL first.
  let end = url.indexOf('?', start);
  const hash = url.indexOf('#', start);
  if (end === -1 || (hash !== -1 && hash < end)) end = hash;
  return end === -1 ? url.slice(start) : url.slice(start, end);
};

const CORS_ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'If-Match',
  SESSION_HEADER,
  HOLDS_HEADER,
];
const CORS_EXPOSE_HEADERS = ['ETag', 'Retry-After', 'WWW-Authenticate'];
const CORS_EXPOSE = CORS_EXPOSE_HEADERS.join(',');

/**
 * The CORS headers Hono's `cors` middleware gives an answer that is not a preflight (the
 * same names and values), set on the answer itself. Hono's sets them on a placeholder
 * response before the handler runs, then copies the handler's response to merge them and
 * again to append `Vary`: three more `Response` objects per request, in Worker CPU.
 */
const setCors = (headers: Headers, allowOrigin: string | null): void => {
  if (allowOrigin !== null) headers.set('Access-Control-Allow-Origin', allowOrigin);
  headers.set('Access-Control-Expose-Headers', CORS_EXPOSE);
  headers.append('Vary', 'Origin');
};
const withCors = (c: Context<ApiEnv>, allowOrigin: string | null): void => {
  try {
    setCors(c.res.headers, allowOrigin);
  } catch {
    // Immutable headers (a response passed through from a fetch): set on a copy.
    c.res = new Response(c.res.body, c.res);
    setCors(c.res.headers, allowOrigin);
  }
};

/**
 * The eventkv HTTP API as a Hono app: authentication, tenant isolation, validation, body
 * limits, rate limits and JSON errors around an injected store.
 * @example
 * const app = createApp({ storeFor: () => createEventStore({ kv: createMemoryKv() }) });
 * export default app;
 */
export const createApp = (options: AppOptions): Hono<ApiEnv> => {
  const settingsOf = options.settings ?? cachedSettingsFromEnv;
  let limiter: { perMinute: number; limiter: RateLimiter } | undefined;
  // RegExpRouter: every route of the API in one regular expression per method, matched in a
  // few microseconds, where Hono's default falls back to its trie router (tens of
  // microseconds a request in the HTTP bench's profiles) as soon as one route is a pair it
  // cannot take (a static segment beside a parameter: `snapshots/latest` is read by the
  // `:version` route for that reason). Set here, a route it cannot take fails every test.
  const app = new Hono<ApiEnv>({ getPath: rawPath, router: new RegExpRouter() });

  app.onError((error) => errorResponse(error));
  app.notFound(() => errorResponse(httpFailure('ROUTE_NOT_FOUND', 'No such route.')));

  // Before authentication: a browser's preflight carries no token. Hono's middleware
  // answers preflights; every other answer gets its headers from `withCors`.
  const preflight = cors({
    origin: (origin, c) => (settingsOf(c.env as Env).corsOrigins.includes(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'DELETE'],
    allowHeaders: CORS_ALLOW_HEADERS,
    exposeHeaders: CORS_EXPOSE_HEADERS,
    maxAge: 600,
  });
  app.use('/v1/*', async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    const origin = c.req.raw.headers.get('Origin');
    await next();
    withCors(c, origin !== null && settingsOf(c.env).corsOrigins.includes(origin) ? origin : null);
  });

  app.use('/v1/:database/*', async (c, next) => {
    const settings = settingsOf(c.env);
    c.set('settings', settings);
    // Authentication first: an unauthenticated caller learns nothing about paths.
    const principal = await authenticate(authorizationOf(c.req.raw), settings.auth);
    // Malformed escapes are refused here, so each parameter's one decoding cannot fail.
    // `c.req.path` is `rawPath` as routing computed it (the URL is not read and cut again).
    for (const [i, segment] of c.req.path.split('/').entries()) {
      // Only an escape can be malformed: a segment without '%' is not decoded here.
      if (segment.includes('%')) decodeSegment(`path segment ${i}`, segment);
    }
    // The tenant comes from the verified token only; the path must agree with it.
    if (c.req.param('database') !== principal.database) {
      fail('FORBIDDEN', 'The token does not grant access to this database.');
    }
    c.set('principal', principal);
    if (settings.rateLimitPerMinute > 0) {
      if (limiter?.perMinute !== settings.rateLimitPerMinute) {
        limiter = {
          perMinute: settings.rateLimitPerMinute,
          limiter: createRateLimiter({ limit: settings.rateLimitPerMinute }),
        };
      }
      const taken = limiter.limiter.take(principal.database);
      if (!taken.allowed) {
        fail('RATE_LIMITED', 'Too many requests for this database; retry later.', {
          retryAfter: taken.retryAfter,
        });
      }
    }
    c.set('store', options.storeFor(principal.database, c.env));
    await next();
  });

  const stream = '/v1/:database/streams/:type/:id';
  app.route(stream, eventRoutes);
  app.route(`${stream}/snapshots`, snapshotRoutes);
  app.route(`${stream}/sessions`, sessionRoutes);
  app.route('/v1/:database', databaseRoutes(options.feedWaitFor));
  app.route('/v1/:database/sync', syncRoutes(options.syncFor));
  app.route('/v1/:database', liveRoutes(options.liveFor ?? liveFromEnv));
  return app;
};
