import {
  checkName,
  checkSubscribeLog,
  type EventShape,
  type EventStore,
  followLog,
  InvalidArgumentError,
  type LogPage,
  OwnAppends,
  type QueryOptions,
  type QueryPage,
  type ReadLogOptions,
  StorageError,
  type StoreCapabilities,
  type StreamId,
  type StreamRef,
} from '@eventkv/core';
import { MAX_FEED_WAIT_MS, type SessionInfo } from '../object/calls.js';
import {
  databaseObjectName,
  objectNameFor,
  type Routing,
  toStreamId,
} from '../routing/object-names.js';
import { callObject, type EventStoreObjectNamespace } from './object-caller.js';
import { RemoteSession } from './remote-session.js';
import { RemoteStream, type RemoteTarget } from './remote-stream.js';
import { feedHolds, logPositionOf, logTrigger } from './remote-waits.js';

// What a database's object serves with the hosted store's default settings.
const ALL_INDEXES = ['eventType', 'aggregateType', 'user', 'correlation'] as const;
/** Streams per database whose last append a store remembers for read-your-writes. */
const MAX_TRACKED_STREAMS = 1000;
/** Databases a store remembers appends of (a Worker's store serves every tenant). */
const MAX_TRACKED_DATABASES = 1000;

export interface DurableObjectEventStoreOptions {
  /**
   * `'stream'` (default): one object per stream, the stream's single writer; streams never
   * wait on each other. Each stream object delivers its events to the database's object,
   * the feed, which serves `query` and `readLog` (`capabilities.databaseReads: 'feed'`: a
   * read waits until the feed holds the appends made through this store; other writers'
   * appends show up after the feed's lag). `'database'`: one object per database (tenant),
   * the one writer of all its streams, which serves `query` and `readLog` from the same
   * storage.
   */
  readonly routing?: Routing;
  /**
   * The database refs, `query` and `readLog` use when they name none (default
   * `'default'`): a Worker serving one tenant sets it once instead of naming it in every ref.
   */
  readonly database?: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/**
 * The event store API over `EventStoreObject`s, for a Worker (or another object) that
 * binds their namespace. Errors arrive as the same classes a local store throws.
 *
 * @example
 * const store = createDurableObjectEventStore<BankEvent>(env.EVENT_STORE);
 * await store.stream({ type: 'BankAccount', id: '42' }).append({ type: 'Deposited', data: { amount: 10 } });
 */
export const createDurableObjectEventStore = <E extends EventShape = EventShape>(
  namespace: EventStoreObjectNamespace,
  options: DurableObjectEventStoreOptions = {},
): EventStore<E> => {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object');
  }
  const routing = options.routing ?? 'stream';
  if (routing !== 'stream' && routing !== 'database') {
    throw new InvalidArgumentError('options.routing', "must be 'stream' or 'database'");
  }
  const defaultDatabase =
    options.database === undefined ? 'default' : checkName('options.database', options.database);
  if (typeof namespace?.idFromName !== 'function') {
    throw new InvalidArgumentError(
      'namespace',
      'must be the Durable Object namespace binding of an EventStoreObject class',
    );
  }
  // A ref or options object that names no database gets the default one; anything else
  // (a malformed argument included) is passed on as it is, to be refused where it is checked.
  // Always a copy: Workers RPC cannot carry an object without a prototype.
  const withDatabase = <T>(value: T): T =>
    isObject(value) ? ({ ...value, database: value.database ?? defaultDatabase } as T) : value;
  const target = (ref: StreamRef): RemoteTarget => {
    const named = withDatabase(ref);
    // Checked before a name becomes an object's name (a lone surrogate would throw a raw
    // URIError there).
    if (isObject(named)) {
      checkName('ref.database', named.database);
      checkName('ref.type', named.type);
      checkName('ref.id', named.id);
    }
    const id = toStreamId(named);
    const objectName = objectNameFor(id, routing);
    return { namespace, objectName, ref: id, appended };
  };
  // Read-your-writes under 'stream' routing: the versions this store appended, which a
  // database-wide read must find in the feed (core's `OwnAppends`: bounded, least recently
  // appended to forgotten first, dropped once a read found them held).
  const own = new OwnAppends(MAX_TRACKED_STREAMS, MAX_TRACKED_DATABASES);
  const appended =
    routing === 'stream'
      ? (ref: StreamId, version: number): void => own.appended(ref, version)
      : () => {};
  const databaseWide = async (operation: string, database: string | undefined): Promise<string> => {
    const name = databaseObjectName(database);
    const db = database ?? defaultDatabase;
    const waited = own.of(db);
    if (routing === 'database' || waited.length === 0) return name;
    if (!(await feedHolds(namespace, db, waited))) {
      throw new StorageError(operation, {
        detail: `the database's feed does not hold this store's appends after ${MAX_FEED_WAIT_MS} ms`,
      });
    }
    own.held(db, waited);
    return name;
  };
  /** The database a log call names (checked as `readLog` checks it), or the default one. */
  const logDatabase = (value: unknown): string => {
    const named = isObject(value) ? value.database : undefined;
    if (value !== undefined && !isObject(value)) {
      throw new InvalidArgumentError('options', 'must be an object');
    }
    return named === undefined ? defaultDatabase : checkName('options.database', named);
  };
  const capabilities: StoreCapabilities = Object.freeze(
    routing === 'database'
      ? { readLog: true, indexes: Object.freeze([...ALL_INDEXES]) }
      : { readLog: true, indexes: Object.freeze([...ALL_INDEXES]), databaseReads: 'feed' },
  );
  return {
    capabilities,
    stream: (ref) => new RemoteStream<E>(target(ref)),
    open: async (ref, openOptions) => {
      const to = target(ref);
      const info = await callObject<SessionInfo>(namespace, to.objectName, 'open', (stub) =>
        stub.open({
          ref: to.ref,
          ...(openOptions === undefined ? {} : { options: { ...openOptions } }),
        }),
      );
      return new RemoteSession<E>(to, info);
    },
    resume: async (ref, sessionId) => {
      const to = target(ref);
      const info = await callObject<SessionInfo>(namespace, to.objectName, 'resume', (stub) =>
        stub.resume({ ref: to.ref, sessionId }),
      );
      return new RemoteSession<E>(to, info);
    },
    query: async (index, value, queryOptions) => {
      const resolved: QueryOptions = withDatabase(queryOptions ?? {});
      const name = await databaseWide('query', resolved.database);
      return callObject<QueryPage<E>>(namespace, name, 'query', (stub) =>
        stub.query({ index, value, options: resolved }),
      );
    },
    readLog: async (logOptions) => {
      const resolved: ReadLogOptions = withDatabase(logOptions ?? {});
      const name = await databaseWide('readLog', resolved.database);
      return callObject<LogPage<E>>(namespace, name, 'readLog', (stub) =>
        stub.readLog({ options: resolved }),
      );
    },
    logPosition: async (positionOptions) => {
      const database = logDatabase(positionOptions);
      return logPositionOf(namespace, await databaseWide('logPosition', database), database);
    },
    // Long-polls the object that serves the log (`waitLog`); reads as `readLog` does, so
    // under 'stream' routing it delivers this store's own appends once the feed holds them.
    subscribeLog: (listener, logOptions = {}) => {
      const database = checkSubscribeLog(listener, logOptions) ?? defaultDatabase;
      const name = databaseObjectName(database);
      return followLog<E>(
        {
          readLog: async (page) => {
            const reader = await databaseWide('readLog', database);
            return callObject<LogPage<E>>(namespace, reader, 'readLog', (stub) =>
              stub.readLog({ options: { ...page, database } }),
            );
          },
          logPosition: async () =>
            logPositionOf(namespace, await databaseWide('logPosition', database), database),
        },
        listener,
        logOptions,
        logTrigger(namespace, name, database),
      );
    },
  };
};
