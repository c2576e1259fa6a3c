import {
  type Clock,
  checkName,
  checkSubscribeLog,
  checkTime,
  type EventShape,
  type EventStore,
  followLog,
  type IndexName,
  InvalidArgumentError,
  type LogPage,
  type LogTailSource,
  type OpenOptions,
  OwnAppends,
  type QueryOptions,
  type QueryPage,
  type ReadLogOptions,
  type RetryPolicy,
  type StoreCapabilities,
  type StreamId,
  type StreamRef,
} from '@eventkv/core';
import type { PushSocketConstructor } from './live-socket.js';
import { createLivePush, subscribeLive } from './live-subscribe.js';
import type { LivePushSettings } from './live-tail.js';
import { logLongPoll } from './long-poll.js';
import { openHttpSession, resumeHttpSession } from './session.js';
import { checkInteger, checkOptions, HttpStream } from './stream.js';
import { claimedDatabase } from './token.js';
import { createTransport, type FetchLike, type RequestSpec, type Transport } from './transport.js';
import {
  API_VERSION,
  encodeSegment,
  HOLDS_HEADER,
  holdsHeaders,
  MAX_HOLDS,
  segmentName,
} from './wire.js';

export interface HttpEventStoreOptions {
  /** The bearer token (an HS256 JWT whose `db` claim names the database). */
  readonly token: string;
  /**
   * The database streams and queries use when they name none. Default: the token's `db`
   * claim (read, not verified: the server verifies it).
   */
  readonly database?: string;
  /** The `fetch` to send requests with (default the global one). */
  readonly fetch?: FetchLike;
  /**
   * What the Worker serves beyond streams (default: the global log and every index, which
   * the Worker serves under either routing). Under its default `stream` routing those
   * answers come from the database's feed: declare `databaseReads: 'feed'` with them
   * (streams interleave in delivery order). `{ readLog: false, indexes: [] }` declares a
   * server that keeps no log or indexes.
   */
  readonly capabilities?: StoreCapabilities;
  /**
   * How failed requests are retried (default `{ maxAttempts: 5, baseDelayMs: 100,
   * maxDelayMs: 5000, maxElapsedMs: 20000 }`); `false` never retries. Only what is safe
   * is retried: see the package README.
   */
  readonly retry?: RetryPolicy | false;
  /** The time retries wait and measure with (default the system clock). */
  readonly clock?: Clock;
  /**
   * Opens the push sockets `subscribe` and `subscribeLog` try first (default: the global
   * `WebSocket`, when `fetch` is not given). `false`: none, the subscriptions long-poll.
   */
  readonly WebSocket?: PushSocketConstructor | false;
  /** Settings of the push sockets (buffer, backoff, heartbeat, fallback; see the README). */
  readonly live?: LivePushSettings;
}

/** The largest page `query` and `readLog` answer, as in a local store. */
const MAX_PAGE = 1000;

const ALL_CAPABILITIES: StoreCapabilities = Object.freeze({
  readLog: true,
  indexes: Object.freeze(['eventType', 'aggregateType', 'user', 'correlation'] as const),
});

/**
 * A name as a local store checks it (no raw `URIError` from a lone surrogate), that can
 * also travel as a path segment.
 */
const name = (field: string, value: unknown): string => checkName(field, segmentName(field, value));

/**
 * The event store API over the eventkv Worker's HTTP API: the same methods as a local
 * store, sessions included, and the same error classes (`isVersionMismatchError(err)`
 * works). Failures of HTTP itself are `HttpError`s with the status.
 * @example
 * const store = createHttpEventStore<BankEvent>('https://eventkv.example.com', { token });
 * await store.stream({ type: 'Account', id: '42' }).append({ type: 'Opened' });
 */
export const createHttpEventStore = <E extends EventShape = EventShape>(
  url: string | URL,
  options: HttpEventStoreOptions,
): EventStore<E> => {
  if (typeof options?.token !== 'string' || options.token.length === 0) {
    throw new InvalidArgumentError('options.token', 'must be a non-empty string');
  }
  const fetchFn: FetchLike = options.fetch ?? ((request) => fetch(request));
  const transport: Transport = createTransport(String(url), options.token, fetchFn, {
    retry: options.retry,
    clock: options.clock,
  });
  // The push sockets the stream handles and `subscribeLog` try first (none: long-polls).
  const pushes = createLivePush(String(url), options.token, options);
  const live = pushes === undefined ? {} : { live: pushes };
  const defaultDatabase = options.database ?? claimedDatabase(options.token);

  const databaseOf = (named: string | undefined, field: string): string => {
    const database = named ?? defaultDatabase;
    if (database === undefined) {
      throw new InvalidArgumentError(
        field,
        'is required: the token has no db claim and options.database is not set',
      );
    }
    return name(field, database);
  };
  const resolve = (ref: StreamRef): StreamId => {
    if (typeof ref !== 'object' || ref === null) {
      throw new InvalidArgumentError('ref', 'must be an object');
    }
    return {
      database: databaseOf(ref.database, 'ref.database'),
      type: name('ref.type', ref.type),
      id: name('ref.id', ref.id),
    };
  };
  const dbPath = (database: string | undefined) =>
    `/${API_VERSION}/${encodeSegment(databaseOf(database, 'options.database'))}`;
  // Read-your-writes across the Worker's instances: database-wide reads name this store's
  // most recent appends in `Eventkv-Holds`, which the Worker waits for.
  const own = new OwnAppends(MAX_HOLDS, MAX_HOLDS);
  const appended = (ref: StreamId, version: number) => own.appended(ref, version);
  /**
   * A GET of a database-wide route, naming this store's own appends to the database. When
   * they take more than one header's worth (long names), the others are named first to
   * the cheapest such route, `GET .../log/position`, which waits for them as the read would.
   */
  const databaseGet = async (
    database: string | undefined,
    route: string,
    query?: RequestSpec['query'],
  ): Promise<unknown> => {
    const db = databaseOf(database, 'options.database');
    const named = own.of(db);
    const headers = holdsHeaders(named);
    const last = headers.pop();
    await Promise.all(
      headers.map((holds) =>
        transport.request({
          method: 'GET',
          path: `${dbPath(db)}/log/position`,
          headers: { [HOLDS_HEADER]: holds },
        }),
      ),
    );
    const answer = await transport.request({
      method: 'GET',
      path: dbPath(db) + route,
      ...(query === undefined ? {} : { query }),
      ...(last === undefined ? {} : { headers: { [HOLDS_HEADER]: last } }),
    });
    own.held(db, named);
    return answer;
  };

  const capabilities = options.capabilities ?? ALL_CAPABILITIES;
  // As a local store without a global log refuses it (a Worker with 'stream' routing and
  // no feed answers these routes with an error).
  const refuseWithoutLog = (operation: string): void => {
    if (!capabilities.readLog) {
      throw new InvalidArgumentError(operation, 'this store does not serve the global log');
    }
  };

  return {
    capabilities,
    stream: (ref) => new HttpStream<E>({ transport, ref: resolve(ref), appended, ...live }),
    // Async, so bad input is a rejection, as in a local store.
    open: async (ref, openOptions: OpenOptions = {}) =>
      openHttpSession<E>(transport, resolve(ref), openOptions, appended),
    resume: async (ref, sessionId) =>
      resumeHttpSession<E>(transport, resolve(ref), name('sessionId', sessionId), appended),
    async query(index: IndexName, value: string, queryOptions?: QueryOptions) {
      const path = `/query/${encodeSegment(name('index', index))}/${encodeSegment(name('value', value))}`;
      const { database, since, until, limit, cursor } = checkOptions(queryOptions);
      const from = checkTime('options.since', since);
      const before = checkTime('options.until', until);
      if (from !== undefined && before !== undefined && from > before) {
        throw new InvalidArgumentError('options.since', 'must not be after options.until');
      }
      checkInteger('options.limit', limit, 1, MAX_PAGE);
      if (cursor !== undefined && typeof cursor !== 'string') {
        throw new InvalidArgumentError('options.cursor', 'must be the cursor of a previous page');
      }
      return (await databaseGet(database, path, {
        since: from,
        until: before,
        limit,
        cursor,
      })) as QueryPage<E>;
    },
    async readLog(logOptions?: ReadLogOptions) {
      const { database, after, limit } = checkOptions(logOptions);
      checkInteger('options.after', after, 0);
      checkInteger('options.limit', limit, 1, MAX_PAGE);
      return (await databaseGet(database, '/log', { after, limit })) as LogPage<E>;
    },
    async logPosition(positionOptions?: { readonly database?: string }) {
      const { database } = checkOptions(positionOptions);
      refuseWithoutLog('logPosition');
      const answer = await databaseGet(database, '/log/position');
      return (answer as { position: number }).position;
    },
    // Long-polls the log route: each wait answers as soon as the log is past the last
    // position delivered.
    subscribeLog(listener, logOptions = {}) {
      refuseWithoutLog('subscribeLog');
      const database = checkSubscribeLog(listener, logOptions);
      const path = dbPath(database);
      const source: LogTailSource<E> = {
        readLog: async (page) => (await databaseGet(database, '/log', page)) as LogPage<E>,
        logPosition: async () =>
          ((await databaseGet(database, '/log/position')) as { position: number }).position,
      };
      // A push socket first, when the store has them; the long-poll where none opens.
      return subscribeLive(
        live.live,
        { path: `${path}/log/live`, point: 'position' },
        listener,
        logOptions,
        (deliver, tailOptions) =>
          followLog<E>(source, deliver, tailOptions, logLongPoll(transport, path)),
        () => source.logPosition(),
      );
    },
  };
};
