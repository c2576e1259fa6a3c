import { API_VERSION, type FetchLike, HttpError, isHttpErrorCode } from '@eventkv/client';
import {
  type Clock,
  checkName,
  errorFromJSON,
  fromWireJson,
  InvalidArgumentError,
  parseRetryAfter,
  type RetryPolicy,
  type RetryVerdict,
  resolveRetryPolicy,
  systemClock,
  toWireJson,
  withRetries,
} from '@eventkv/core';
import {
  type PullRequest,
  type PullResponse,
  type PushRequest,
  type PushResponse,
  SYNC_PROTOCOL,
} from './protocol.js';
import type { SyncRemote } from './remote.js';

export interface HttpSyncRemoteOptions {
  /** The bearer token (an HS256 JWT whose `db` claim names the database, `sub` the user). */
  readonly token?: string;
  /**
   * Gives the token for each request instead of `token`, called before every attempt: an
   * app refreshes an expired token here. Needs `database`.
   */
  readonly getToken?: () => string | Promise<string>;
  /** The database synced. Default: the `db` claim of `token` (read, not verified). */
  readonly database?: string;
  /** The `fetch` to send requests with (default the global one). */
  readonly fetch?: FetchLike;
  /**
   * How failed requests are retried (default `DEFAULT_RETRY_POLICY` of `@eventkv/core`);
   * `false` never retries. Network failures, 429, 502, 503 and 504 are retried (a
   * `Retry-After` honoured), pushes included: the edge answers a repeated seq from its
   * record. Every other answer is final.
   */
  readonly retry?: RetryPolicy | false;
  /** The time retries wait and measure with (default the system clock). */
  readonly clock?: Clock;
}

/** The `db` claim of a JWT, read without verifying it (the server verifies it). */
const claimedDatabase = (token: string): string | undefined => {
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const db = (JSON.parse(new TextDecoder().decode(bytes)) as { db?: unknown }).db;
    return typeof db === 'string' ? db : undefined;
  } catch {
    return undefined;
  }
};

const nonEmpty = (field: string, value: unknown): string => {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(field, 'must be a non-empty string');
  }
  return value;
};

/** Statuses retried: refused before processing (429), or a server that could not answer. */
const RETRIED: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** The status and server-given delay of a failed attempt, for the retry decision. */
const attempts = new WeakMap<object, { status: number; retryAfterMs: number | undefined }>();

const noted = <T extends Error>(error: T, status: number, retryAfterMs?: number): T => {
  attempts.set(error, { status, retryAfterMs });
  return error;
};

const classify = (error: unknown): RetryVerdict => {
  const attempt = typeof error === 'object' && error !== null ? attempts.get(error) : undefined;
  if (attempt === undefined || (attempt.status !== 0 && !RETRIED.has(attempt.status))) {
    return false;
  }
  return attempt.retryAfterMs === undefined ? true : { afterMs: attempt.retryAfterMs };
};

/** An error response as core's error class, or an `HttpError` for the HTTP-only codes. */
const failure = async (
  response: Response,
  operation: string,
  retryAfterMs: number | undefined,
): Promise<Error> => {
  let error: unknown;
  try {
    error = ((await response.json()) as { error?: unknown }).error;
  } catch (cause) {
    return new HttpError(
      'BAD_RESPONSE',
      response.status,
      `${operation}: HTTP ${response.status} with a body that is not an eventkv error`,
      { cause },
    );
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  if (isHttpErrorCode(code)) {
    const message = (error as { message?: unknown }).message;
    return new HttpError(
      code,
      response.status,
      typeof message === 'string' ? message : `${operation}: HTTP ${response.status}`,
      { retryAfter: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000) },
    );
  }
  if (typeof code !== 'string') {
    return new HttpError(
      'BAD_RESPONSE',
      response.status,
      `${operation}: HTTP ${response.status} with a body that is not an eventkv error`,
    );
  }
  return errorFromJSON(error, operation);
};

/**
 * A sync remote over the eventkv Worker's sync routes (`POST /v1/{database}/sync/push` and
 * `/sync/pull`, served with `ROUTING=database`): messages travel as wire JSON, store
 * failures arrive as core's error classes, HTTP ones as `HttpError` (a 401 is surfaced,
 * never retried, and the replica's outbox stays as it was).
 * @example
 * const remote = createHttpSyncRemote('https://eventkv.example.com', {
 *   getToken: () => auth.freshToken(),
 *   database: 'acme',
 * });
 * const store = createSyncedStore<BankEvent>({ kv: createIndexedDbKv({ name: 'bank' }), remote });
 */
export const createHttpSyncRemote = (
  url: string | URL,
  options: HttpSyncRemoteOptions,
): SyncRemote => {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object with token or getToken');
  }
  const { token, getToken } = options;
  if ((token === undefined) === (getToken === undefined)) {
    throw new InvalidArgumentError('options', 'must have one of token and getToken');
  }
  if (token !== undefined) nonEmpty('options.token', token);
  if (getToken !== undefined && typeof getToken !== 'function') {
    throw new InvalidArgumentError('options.getToken', 'must be a function');
  }
  const named = options.database ?? (token === undefined ? undefined : claimedDatabase(token));
  if (named === undefined) {
    throw new InvalidArgumentError(
      'options.database',
      token === undefined
        ? 'is required with getToken (the database is not known before a token is)'
        : 'is required: the token has no db claim',
    );
  }
  const database = checkName('options.database', named);
  if (database === '.' || database === '..') {
    throw new InvalidArgumentError('options.database', `cannot be '${database}' over HTTP`);
  }
  const fetchFn: FetchLike = options.fetch ?? ((request) => fetch(request));
  const policy = resolveRetryPolicy(options.retry, 'options.retry');
  const clock = options.clock ?? systemClock;
  const base = `${String(url).replace(/\/+$/, '')}/${API_VERSION}/${encodeURIComponent(database)}/sync`;

  const bearer = async (): Promise<string> =>
    nonEmpty('getToken()', token ?? (await (getToken as () => string | Promise<string>)()));

  /** One attempt: the decoded answer, or the failure (noted with its status). */
  const send = async (path: string, body: string, operation: string): Promise<unknown> => {
    const headers = new Headers({
      Authorization: `Bearer ${await bearer()}`,
      Accept: 'application/json',
      'Content-Type': 'application/json',
    });
    let response: Response;
    try {
      response = await fetchFn(new Request(`${base}/${path}`, { method: 'POST', headers, body }));
    } catch (cause) {
      throw noted(
        new HttpError('NETWORK_FAILURE', 0, `${operation}: the request failed`, { cause }),
        0,
      );
    }
    if (!response.ok) {
      const retryAfterMs = parseRetryAfter(response.headers.get('Retry-After'), clock.now());
      throw noted(await failure(response, operation, retryAfterMs), response.status, retryAfterMs);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (cause) {
      // The answer was cut off: the request may have been processed (a retry is harmless).
      throw noted(
        new HttpError('NETWORK_FAILURE', 0, `${operation}: the response was cut off`, { cause }),
        0,
      );
    }
    let value: unknown;
    try {
      value = fromWireJson(text);
    } catch (cause) {
      throw new HttpError(
        'BAD_RESPONSE',
        response.status,
        `${operation}: the response body is not wire JSON`,
        { cause },
      );
    }
    if ((value as { protocol?: unknown } | null)?.protocol !== SYNC_PROTOCOL) {
      throw new HttpError(
        'BAD_RESPONSE',
        response.status,
        `${operation}: the response is not a sync protocol ${SYNC_PROTOCOL} message`,
      );
    }
    return value;
  };

  const post = (path: 'push' | 'pull', request: PushRequest | PullRequest): Promise<unknown> => {
    // Encoded once: every attempt sends the same bytes.
    const body = toWireJson(request);
    const operation = `sync ${path}`;
    return withRetries(() => send(path, body, operation), { policy, clock, classify });
  };

  return {
    database,
    push: async (request) => (await post('push', request)) as PushResponse,
    pull: async (request) => (await post('pull', request)) as PullResponse,
  };
};
