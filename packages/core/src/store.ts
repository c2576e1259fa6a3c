import { InvalidArgumentError, type StreamId } from './errors.js';
import type { IndexName, StreamSlot } from './keys.js';
import { type Context, type EventStoreOptions, resolveOptions } from './options.js';
import { type LogPage, queryIndex, readGlobalLog, readLogPosition } from './queries.js';
import { type OpenOptions, openSession, resumeSession, type Session } from './session.js';
import { type EventStream, StreamHandle } from './stream.js';
import type { Unsubscribe } from './subscribe.js';
import { type SubscribeLogOptions, subscribeLog } from './subscribe-log.js';
import type {
  EventShape,
  QueryOptions,
  QueryPage,
  ReadLogOptions,
  RecordedEvent,
  StoreCapabilities,
  StreamRef,
} from './types.js';
import { validateInteger, validateName, validateObject } from './validate.js';

/** The provider: opens streams and answers database-wide queries. */
export interface EventStore<E extends EventShape = EventShape> {
  /** What this store serves beyond the stream API (the global log, which indexes). */
  readonly capabilities: StoreCapabilities;
  /**
   * A session-less handle: optimistic concurrency only (expected versions). Writes fail
   * with `StreamLockedError` while a session holds the stream.
   */
  stream(ref: StreamRef): EventStream<E>;
  /**
   * Opens an exclusive session (takes the stream's lease). Fails with `OpenFailedError`
   * when another live session holds it past the open timeout.
   * @example
   * await using account = await store.open({ type: 'BankAccount', id: '42' });
   */
  open(ref: StreamRef, options?: OpenOptions): Promise<Session<E>>;
  /**
   * Re-attaches to a session opened earlier (by another request, another instance of the
   * store, or before a restart) by its id. Fails with `NotOpenError` when no session holds
   * the stream, `InvalidSessionError` when another one does, `SessionExpiredError` when it
   * ran out. `renew()` extends it by the timeout it was opened with.
   * @example
   * const session = await store.resume(ref, request.headers.get('Eventkv-Session'));
   */
  resume(ref: StreamRef, sessionId: string): Promise<Session<E>>;
  /**
   * Events of a database by an index (`eventType`, `aggregateType`, `user`,
   * `correlation`), in time order within `[since, until)`, a page at a time.
   */
  query(index: IndexName, value: string, options?: QueryOptions): Promise<QueryPage<E>>;
  /** The database's events in global order, after a position: for catch-up and sync. */
  readLog(options?: ReadLogOptions): Promise<LogPage<E>>;
  /**
   * The position of the database's log: its last event's (0 when empty), what
   * `subscribeLog` starts after by default. Refused without a global log, as `readLog` is.
   */
  logPosition(options?: { readonly database?: string }): Promise<number>;
  /**
   * A live tail of the database's log, the log's counterpart of `stream.subscribe`: calls
   * `listener` with each batch of events in position order, each event once, whoever
   * appended it. By default only events appended from now on; `after` (a position, as
   * `readLog`'s) replays from there, so a tail resumes from the last position it saw
   * without skipping or repeating an event. Local stores follow the KV's change feed (or
   * poll), remote stores long-poll. Throws `InvalidArgumentError` without a global log.
   * @example
   * const stop = store.subscribeLog((events) => project(events), { after: checkpoint });
   */
  subscribeLog(
    listener: (events: RecordedEvent<E>[]) => void,
    options?: SubscribeLogOptions,
  ): Unsubscribe;
}

export const resolveSlot = (ctx: Context, ref: StreamRef): StreamSlot => {
  validateObject('ref', ref);
  const database = ref.database === undefined ? 'default' : ref.database;
  return (
    ctx.slots.cached(database, ref.type, ref.id) ??
    ctx.slots.slot(
      validateName('ref.database', database),
      validateName('ref.type', ref.type),
      validateName('ref.id', ref.id),
    )
  );
};

export const resolveRef = (ctx: Context, ref: StreamRef): StreamId => resolveSlot(ctx, ref).stream;

/**
 * Creates an event store over a key-value backend.
 * @example
 * const store = createEventStore<BankEvent>({ kv: createMemoryKv() });
 */
export const createEventStore = <E extends EventShape = EventShape>(
  options: EventStoreOptions,
): EventStore<E> => storeOver<E>(resolveOptions(options));

/** The store over resolved settings (shared with a replica's own writes, see replica.ts). */
export const storeOver = <E extends EventShape = EventShape>(ctx: Context): EventStore<E> => {
  const capabilities: StoreCapabilities = Object.freeze({
    readLog: ctx.globalLog,
    indexes: Object.freeze([...ctx.indexes]),
  });
  return {
    capabilities,
    stream: (ref) => {
      const slot = resolveSlot(ctx, ref);
      return new StreamHandle<E>(ctx, slot.stream, slot.optimistic, slot);
    },
    open: async (ref, openOptions = {}) => {
      const id = resolveRef(ctx, ref);
      validateObject('options', openOptions);
      const sessionTimeoutMs =
        openOptions.sessionTimeoutMs === undefined
          ? ctx.sessionTimeoutMs
          : validateInteger('options.sessionTimeoutMs', openOptions.sessionTimeoutMs, 1);
      const openTimeoutMs =
        openOptions.openTimeoutMs === undefined
          ? ctx.openTimeoutMs
          : validateInteger('options.openTimeoutMs', openOptions.openTimeoutMs, 0);
      return openSession<E>(ctx, id, sessionTimeoutMs, openTimeoutMs);
    },
    resume: async (ref, sessionId) =>
      resumeSession<E>(ctx, resolveRef(ctx, ref), validateName('sessionId', sessionId)),
    query: (index, value, queryOptions) => queryIndex<E>(ctx, index, value, queryOptions),
    readLog: (logOptions) => readGlobalLog<E>(ctx, logOptions),
    logPosition: async (positionOptions = {}) => {
      if (!ctx.globalLog)
        throw new InvalidArgumentError(
          'logPosition',
          'this store does not keep the global log (globalLog: false)',
        );
      validateObject('options', positionOptions);
      const { database } = positionOptions;
      return readLogPosition(
        ctx,
        database === undefined ? 'default' : validateName('options.database', database),
      );
    },
    subscribeLog: (listener, logOptions) => subscribeLog<E>(ctx, listener, logOptions),
  };
};
