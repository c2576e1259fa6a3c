import {
  type EventShape,
  type EventStore,
  type IndexName,
  InvalidArgumentError,
  type LogPage,
  type OpenOptions,
  type QueryOptions,
  type QueryPage,
  type ReadLogOptions,
  type StoreCapabilities,
  type StreamId,
  type StreamRef,
} from '@eventkv/core';
import { openHttpSession, resumeHttpSession } from './session.js';
import { HttpStream } from './stream.js';
import { createTransport, type FetchLike, type Transport } from './transport.js';
import { API_VERSION, encodeSegment, segmentName } from './wire.js';

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
   * What the Worker serves beyond streams (default: the global log and every index, as a
   * Worker with `ROUTING=database` does). Declare `{ readLog: false, indexes: [] }` for a
   * Worker with the default `stream` routing, which answers those routes with an error.
   */
  readonly capabilities?: StoreCapabilities;
}

const ALL_CAPABILITIES: StoreCapabilities = Object.freeze({
  readLog: true,
  indexes: Object.freeze(['eventType', 'aggregateType', 'user', 'correlation'] as const),
});

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
  const transport: Transport = createTransport(String(url), options.token, fetchFn);
  const defaultDatabase = options.database ?? claimedDatabase(options.token);

  const databaseOf = (named: string | undefined, field: string): string => {
    const database = named ?? defaultDatabase;
    if (database === undefined) {
      throw new InvalidArgumentError(
        field,
        'is required: the token has no db claim and options.database is not set',
      );
    }
    return segmentName(field, database);
  };
  const resolve = (ref: StreamRef): StreamId => {
    if (typeof ref !== 'object' || ref === null) {
      throw new InvalidArgumentError('ref', 'must be an object');
    }
    return {
      database: databaseOf(ref.database, 'ref.database'),
      type: segmentName('ref.type', ref.type),
      id: segmentName('ref.id', ref.id),
    };
  };
  const dbPath = (database: string | undefined) =>
    `/${API_VERSION}/${encodeSegment(databaseOf(database, 'options.database'))}`;

  return {
    capabilities: options.capabilities ?? ALL_CAPABILITIES,
    stream: (ref) => new HttpStream<E>({ transport, ref: resolve(ref) }),
    open: (ref, openOptions: OpenOptions = {}) =>
      openHttpSession<E>(transport, resolve(ref), openOptions),
    resume: (ref, sessionId) =>
      resumeHttpSession<E>(transport, resolve(ref), segmentName('sessionId', sessionId)),
    async query(index: IndexName, value: string, queryOptions: QueryOptions = {}) {
      const { database, since, until, limit, cursor } = queryOptions;
      const time = (t: number | Date | undefined) => (t instanceof Date ? t.getTime() : t);
      return (await transport.request({
        method: 'GET',
        path: `${dbPath(database)}/query/${encodeSegment(segmentName('index', index))}/${encodeSegment(segmentName('value', value))}`,
        query: { since: time(since), until: time(until), limit, cursor },
      })) as QueryPage<E>;
    },
    async readLog(logOptions: ReadLogOptions = {}) {
      const { database, after, limit } = logOptions;
      return (await transport.request({
        method: 'GET',
        path: `${dbPath(database)}/log`,
        query: { after, limit },
      })) as LogPage<E>;
    },
  };
};
