import { env, exports } from 'cloudflare:workers';
import { fromWire, toWire } from '@eventkv/client';
import { createDurableObjectEventStore, pushSockets, syncObject } from '@eventkv/durable-object';
import { sign } from 'hono/jwt';
import { createApp, type Env } from '../src/index';

// The main module's exports are untyped unless `GlobalProps` names the module; only its
// fetch handler is used here.
const worker = (exports as unknown as { default: Fetcher }).default;

export const SECRET = 'test-secret-for-the-workerd-tests-0123456789';
export const ORIGIN = 'https://eventkv.test';

let counter = 0;
/** A database of its own per test, so tests share no streams. */
export const freshDatabase = (): string => `tenant-${Date.now().toString(36)}-${++counter}`;

export interface TokenClaims {
  readonly db?: string | undefined;
  readonly iss?: string | undefined;
  readonly aud?: string | undefined;
  readonly exp?: number | undefined;
  readonly nbf?: number | undefined;
  readonly [claim: string]: unknown;
}

const now = () => Math.floor(Date.now() / 1000);

/** A token the Worker accepts for `db`, with claims overridable. */
export const tokenFor = (
  db: string,
  claims: TokenClaims = {},
  secret = SECRET,
): Promise<string> => {
  const all = { db, iss: 'eventkv', aud: 'eventkv-api', exp: now() + 600, ...claims };
  // A claim set to undefined is left out of the token.
  const payload = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
  return sign(payload as Parameters<typeof sign>[0], secret, 'HS256');
};

/** Sends a request to the Worker under test (its default export's fetch). */
export const send = (request: Request): Promise<Response> => worker.fetch(request);

/**
 * The same API with `'database'` routing (one object per database) over the same
 * namespace: the configuration that serves queries, the global log, sync and the push
 * sockets. Tests give it databases of their own, so the two routings never share data.
 */
const databaseRouted = createApp({
  storeFor: (_database, bindings) =>
    createDurableObjectEventStore(bindings.EVENT_STORE, { routing: 'database' }),
  syncFor: (database, bindings) =>
    syncObject(bindings.EVENT_STORE, database, { routing: 'database' }),
  liveFor: (_database, bindings) => pushSockets(bindings.EVENT_STORE, 'database'),
});
export const sendDatabaseRouted = async (request: Request): Promise<Response> =>
  databaseRouted.fetch(request, env as unknown as Env);

/** Sends a request to `ORIGIN + path`. */
export const call = (path: string, init: RequestInit = {}): Promise<Response> =>
  worker.fetch(new Request(ORIGIN + path, init));

export const authed = async (db: string, init: RequestInit = {}): Promise<RequestInit> => {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${await tokenFor(db)}`);
  return { ...init, headers };
};

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The wire-JSON-decoded body of a success, the plain JSON of an error, or undefined. */
  readonly body: unknown;
}

/** An authenticated API call for `db` (token for `tokenDb`, default `db`), decoded. */
export const api = async (
  db: string,
  method: string,
  path: string,
  options: {
    body?: unknown;
    headers?: Record<string, string>;
    tokenDb?: string;
    via?: (request: Request) => Promise<Response>;
  } = {},
): Promise<ApiResponse> => {
  const headers = new Headers(options.headers);
  headers.set('Authorization', `Bearer ${await tokenFor(options.tokenDb ?? db)}`);
  let body: string | undefined;
  if (options.body !== undefined) {
    body = toWire(options.body);
    if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  }
  const request = new Request(`${ORIGIN}/v1/${db}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const res = await (options.via ?? send)(request);
  const text = await res.text();
  let decoded: unknown;
  if (text !== '') decoded = res.ok ? fromWire(text) : JSON.parse(text);
  return { status: res.status, headers: res.headers, body: decoded };
};

/** The `error` of an error response. */
export const errorOf = (
  res: ApiResponse,
): { code: string; message: string; [field: string]: unknown } =>
  (res.body as { error: { code: string; message: string } }).error;
