import {
  API_VERSION,
  claimedDatabase,
  createTransport,
  type FetchLike,
  HttpError,
} from '@eventkv/client';
import { type Clock, checkName, InvalidArgumentError, type RetryPolicy } from '@eventkv/core';
import {
  LIVE_SUBPROTOCOL,
  LIVE_TOKEN_PREFIX,
  type PullRequest,
  type PullResponse,
  type PushRequest,
  type PushResponse,
  SYNC_PROTOCOL,
  type WaitRequest,
  type WaitResponse,
} from './protocol.js';
import type { LiveSocket, SyncRemote } from './remote.js';

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
  /**
   * Opens the live socket (default the global `WebSocket`). `false`, or no global one: the
   * remote has no `openSocket` and a live connection long-polls.
   */
  readonly WebSocket?: (new (url: string, protocols: string[]) => LiveSocket) | false;
}

const nonEmpty = (field: string, value: unknown): string => {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(field, 'must be a non-empty string');
  }
  return value;
};

/**
 * A sync remote over the eventkv Worker's sync routes (`POST /v1/{database}/sync/push` and
 * `/sync/pull`, under either of its routings): messages travel as wire JSON, store
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
  const tokenOf = async (): Promise<string> =>
    token ?? nonEmpty('getToken()', await (getToken as () => string | Promise<string>)());
  // The Worker's transport: token per attempt, wire JSON, errors as classes, retries.
  const transport = createTransport(
    String(url),
    token ?? tokenOf,
    options.fetch ?? ((request) => fetch(request)),
    { retry: options.retry, clock: options.clock },
  );
  const path = `/${API_VERSION}/${encodeURIComponent(database)}/sync`;
  const Socket =
    options.WebSocket === false
      ? undefined
      : (options.WebSocket ??
        (globalThis as { WebSocket?: new (url: string, protocols: string[]) => LiveSocket })
          .WebSocket);

  const post = async (
    kind: 'push' | 'pull' | 'wait',
    request: PushRequest | PullRequest | WaitRequest,
    signal?: AbortSignal,
  ) => {
    // A repeated push is answered from the edge's record: safe to send twice.
    const value = await transport.request({
      method: 'POST',
      path: `${path}/${kind}`,
      body: request,
      idempotent: true,
      ...(signal === undefined ? {} : { signal }),
    });
    if ((value as { protocol?: unknown } | null)?.protocol !== SYNC_PROTOCOL) {
      throw new HttpError(
        'BAD_RESPONSE',
        200,
        `sync ${kind}: the response is not a sync protocol ${SYNC_PROTOCOL} message`,
      );
    }
    return value;
  };

  return {
    database,
    push: async (request) => (await post('push', request)) as PushResponse,
    pull: async (request) => (await post('pull', request)) as PullResponse,
    wait: async (request, signal) => (await post('wait', request, signal)) as WaitResponse,
    ...(Socket === undefined
      ? {}
      : {
          async openSocket(socketOptions) {
            const live = new URL(`${String(url).replace(/\/+$/, '')}${path}/live`);
            live.protocol = live.protocol === 'https:' ? 'wss:' : 'ws:';
            const clientId = socketOptions?.clientId;
            if (clientId !== undefined) live.searchParams.set('clientId', clientId);
            // A browser cannot set headers on a WebSocket: the token rides as a subprotocol.
            return new Socket(String(live), [
              LIVE_SUBPROTOCOL,
              LIVE_TOKEN_PREFIX + (await tokenOf()),
            ]);
          },
        }),
  };
};
