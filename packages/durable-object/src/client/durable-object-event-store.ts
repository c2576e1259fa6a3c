import {
  checkName,
  type EventShape,
  type EventStore,
  InvalidArgumentError,
  type LogPage,
  type QueryOptions,
  type QueryPage,
  type ReadLogOptions,
  type StoreCapabilities,
  type StreamRef,
} from '@eventkv/core';
import type { SessionInfo } from '../object/calls.js';
import {
  databaseObjectName,
  objectNameFor,
  type Routing,
  toStreamId,
} from '../routing/object-names.js';
import { callObject, type EventStoreObjectNamespace } from './object-caller.js';
import { RemoteSession } from './remote-session.js';
import { RemoteStream, type RemoteTarget } from './remote-stream.js';

// What an object serves under 'database' routing with the hosted store's default settings.
const ALL_INDEXES = ['eventType', 'aggregateType', 'user', 'correlation'] as const;

export interface DurableObjectEventStoreOptions {
  /**
   * `'stream'` (default): one object per stream, the stream's single writer; streams never
   * wait on each other, but `query` and `readLog` are refused (no object sees the whole
   * database). `'database'`: one object per database (tenant), which serves `query` and
   * `readLog` too, and is the one writer of all its streams.
   */
  readonly routing?: Routing;
  /**
   * The database refs, `query` and `readLog` use when they name none (default
   * `'default'`): a Worker serving one tenant sets it once instead of naming it in every ref.
   */
  readonly database?: string;
}

// The rules core applies to every name (database, type, id): 1-256 characters of
// well-formed UTF-16 without control characters.
const MAX_NAME_LENGTH = 256;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001F\u007F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const validateDatabase = (field: string, value: unknown): string => {
  if (typeof value !== 'string') throw new InvalidArgumentError(field, 'must be a string');
  if (value.length === 0) throw new InvalidArgumentError(field, 'must not be empty');
  if (value.length > MAX_NAME_LENGTH) {
    throw new InvalidArgumentError(
      field,
      `must be at most ${MAX_NAME_LENGTH} characters (got ${value.length})`,
    );
  }
  if (LONE_SURROGATE.test(value)) {
    throw new InvalidArgumentError(
      field,
      'must be well-formed UTF-16 (it contains a lone surrogate)',
    );
  }
  if (CONTROL.test(value)) {
    throw new InvalidArgumentError(field, 'must not contain control characters');
  }
  return value;
};

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
    options.database === undefined
      ? 'default'
      : validateDatabase('options.database', options.database);
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
    return { namespace, objectName: objectNameFor(id, routing), ref: id };
  };
  const databaseWide = (operation: string, database: string | undefined): string => {
    if (routing === 'stream') {
      throw new InvalidArgumentError(
        'routing',
        `${operation} needs routing: 'database' (with 'stream' routing every stream lives in its own object, so none sees the whole database)`,
      );
    }
    return databaseObjectName(database);
  };
  const capabilities: StoreCapabilities = Object.freeze(
    routing === 'database'
      ? { readLog: true, indexes: Object.freeze([...ALL_INDEXES]) }
      : { readLog: false, indexes: Object.freeze([]) },
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
      const name = databaseWide('query', resolved.database);
      return callObject<QueryPage<E>>(namespace, name, 'query', (stub) =>
        stub.query({ index, value, options: resolved }),
      );
    },
    readLog: async (logOptions) => {
      const resolved: ReadLogOptions = withDatabase(logOptions ?? {});
      const name = databaseWide('readLog', resolved.database);
      return callObject<LogPage<E>>(namespace, name, 'readLog', (stub) =>
        stub.readLog({ options: resolved }),
      );
    },
  };
};
