import {
  type AppendResult,
  type Clock,
  defaultIdGenerator,
  type EventInput,
  type EventShape,
  type EventStore,
  type EventStoreOptions,
  type EventStream,
  type IdGenerator,
  InvalidArgumentError,
  type ReadOptions,
  type StreamId,
  type StreamRef,
  systemClock,
  type Unsubscribe,
} from '@eventkv/core';
import { createReplica } from '@eventkv/core/replica';
import { conflictOf, listConflicts, type Resolution, resolveConflict } from './conflicts.js';
import {
  type Conflict,
  refIn,
  type SyncContext,
  type SyncEvent,
  type SyncedEvent,
} from './context.js';
import { ensureMeta, pullAll, pushAll, recordOutcome } from './engine.js';
import { META_KEY, STATUS_KEY } from './keys.js';
import { readStates } from './outbox.js';
import type { SyncCursor } from './protocol.js';
import type { ConflictRecord, MetaRecord, StatusRecord } from './records.js';
import type { SyncRemote } from './remote.js';
import { type SyncedAppendOptions, SyncedStream } from './synced-stream.js';
import type { SyncedSubscribeOptions } from './synced-tail.js';

export interface SyncedStoreOptions
  extends Omit<EventStoreOptions, 'clock' | 'generateId' | 'globalLog'> {
  /** Where pushes and pulls go (`createHttpSyncRemote`, or an edge in process). */
  readonly remote: SyncRemote;
  /**
   * `'database'` (default): pull every stream of the database. `'held'`: only the streams
   * this replica already has events of or pending events for.
   */
  readonly scope?: 'database' | 'held';
  readonly clock?: Clock;
  /** Message ids and this replica's client id (default: `defaultIdGenerator`, version 7 UUIDs). */
  readonly generateId?: IdGenerator;
}

/** What a synced store reports about itself. */
export interface SyncStatus {
  readonly clientId: string;
  /** Events appended here that the edge has not confirmed. */
  readonly pending: number;
  /** When the oldest of them was appended (ms since epoch): how long data has been at risk. */
  readonly oldestPendingAt: number | undefined;
  /** Streams whose pending events wait for the app (`conflicts()`). */
  readonly conflicts: number;
  readonly lastSuccessAt: number | undefined;
  readonly lastError: StatusRecord['lastError'];
}

/** A stream with events the edge has not confirmed, or a conflict (`pendingStreams()`). */
export interface PendingStreamStatus {
  readonly ref: StreamId;
  /** Its pending events (0 for a stream whose conflict left none). */
  readonly pending: number;
  /** When the oldest of them was appended (ms since epoch); undefined when none is pending. */
  readonly since: number | undefined;
  /** Why its pending events wait for the app, when they do (`conflict(ref)` has the rest). */
  readonly conflict?: ConflictRecord['kind'];
}

/** The sync controls of a synced store. */
export interface SyncControls<E extends EventShape = EventShape> {
  /** Where this store pushes and pulls (its `remote` option): a live connection uses it too. */
  readonly remote: SyncRemote;
  /** Where this replica is in the edge's log (undefined before its first pull). */
  cursor(): Promise<SyncCursor | undefined>;
  /**
   * Pushes the pending events and pulls the edge's new ones, once. Concurrent calls share
   * one run. Rejects when the edge cannot be reached (nothing is lost: the next run
   * resumes), after recording the error for `status()`.
   */
  syncNow(): Promise<{ readonly pushed: number; readonly pulled: number }>;
  /** Reads the streams' sync states and the last outcome: cheap with many pending events. */
  status(): Promise<SyncStatus>;
  /**
   * Every stream with pending events or a conflict, oldest `since` first (those with none
   * pending last): what is not on the edge yet, including streams that exist only here
   * (which `query()`, over confirmed events, does not return).
   */
  pendingStreams(): Promise<PendingStreamStatus[]>;
  /** The conflicted streams, oldest first. */
  conflicts(): Promise<Conflict<E>[]>;
  /** The conflict of one stream, if it has one. */
  conflict(ref: StreamRef): Promise<Conflict<E> | undefined>;
  /** Settles a conflict (discard, rebase through a decider, or given events). */
  resolve(ref: StreamRef, resolution: Resolution<E>): Promise<void>;
  /** Hears conflicts as they are found, sync runs and errors. Returns its removal. */
  on(listener: (event: SyncEvent<E>) => void): () => void;
}

/** A stream of a synced store: reads say which events the edge has confirmed. */
export interface SyncedEventStream<E extends EventShape = EventShape> extends EventStream<E> {
  append(
    events: EventInput<E> | readonly EventInput<E>[],
    options?: SyncedAppendOptions,
  ): Promise<AppendResult>;
  read(options?: ReadOptions): Promise<SyncedEvent<E>[]>;
  subscribe(
    listener: (events: SyncedEvent<E>[]) => void,
    options?: SyncedSubscribeOptions,
  ): Unsubscribe;
}

/** An event store whose streams sync with an edge. */
export interface SyncedStore<E extends EventShape = EventShape> extends EventStore<E> {
  stream(ref: StreamRef): SyncedEventStream<E>;
  readonly sync: SyncControls<E>;
}

/**
 * A local store (IndexedDB in a browser, any KV) kept in sync with the edge's store of one
 * database: the app appends and reads as usual, offline too; appends wait in an outbox
 * until the edge confirms them; the edge's events arrive through pulls; a stream whose
 * pending events conflict with the edge's waits for the app (`sync.conflicts()`), and every
 * other stream syncs on.
 * @example
 * const store = createSyncedStore<BankEvent>({ kv: createIndexedDbKv({ name: 'bank' }), remote });
 * await store.stream({ type: 'Account', id: '42' }).append({ type: 'Deposited', data: { amount: 5 } });
 * await store.sync.syncNow();
 */
export const createSyncedStore = <E extends EventShape = EventShape>(
  options: SyncedStoreOptions,
): SyncedStore<E> => {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object with at least { kv, remote }');
  }
  const { remote, scope = 'database', clock = systemClock } = options;
  if (typeof remote?.push !== 'function' || typeof remote.pull !== 'function') {
    throw new InvalidArgumentError('options.remote', 'must be a SyncRemote (push, pull)');
  }
  if (scope !== 'database' && scope !== 'held') {
    throw new InvalidArgumentError('options.scope', "must be 'database' or 'held'");
  }
  const generateId = options.generateId ?? defaultIdGenerator;
  const { remote: _, scope: __, ...storeOptions } = options;
  const replica = createReplica<E>({ ...storeOptions, clock, generateId, globalLog: true });
  const listeners = new Set<(event: SyncEvent<E>) => void>();
  const ctx: SyncContext = {
    replica: replica as never,
    kv: options.kv,
    remote,
    database: remote.database,
    clock,
    generateId,
    scope,
    emit: (event) => {
      for (const listener of listeners) {
        try {
          listener(event as SyncEvent<E>);
        } catch {
          // A listener's failure is its own.
        }
      }
    },
  };
  const local = replica.store;

  const resolveRef = (ref: StreamRef): StreamId => {
    if (typeof ref !== 'object' || ref === null)
      throw new InvalidArgumentError('ref', 'must be an object');
    if (ref.database !== undefined && ref.database !== ctx.database) {
      throw new InvalidArgumentError(
        'ref.database',
        `this store syncs database '${ctx.database}' only (got '${ref.database}')`,
      );
    }
    // Validates the names as a store does.
    return local.stream(refIn(ctx.database, ref)).ref;
  };

  const noSessions = (): never => {
    throw new InvalidArgumentError(
      'open',
      'a synced store has no sessions (a lease here cannot hold the edge): use expected versions',
    );
  };

  let running: Promise<{ pushed: number; pulled: number }> | undefined;
  const run = async () => {
    try {
      await ensureMeta(ctx);
      const pushed = await pushAll(ctx);
      const pulled = await pullAll(ctx);
      await recordOutcome(ctx);
      ctx.emit({ type: 'synced', pushed, pulled });
      return { pushed, pulled };
    } catch (error) {
      await recordOutcome(ctx, error).catch(() => {});
      ctx.emit({ type: 'error', error });
      throw error;
    }
  };

  return {
    capabilities: local.capabilities,
    stream: (ref) => new SyncedStream<E>(ctx, resolveRef(ref)),
    open: async () => noSessions(),
    resume: async () => noSessions(),
    query: (index, value, queryOptions) =>
      local.query(index, value, { ...queryOptions, database: ctx.database }),
    readLog: (logOptions) => local.readLog({ ...logOptions, database: ctx.database }),
    logPosition: () => local.logPosition({ database: ctx.database }),
    subscribeLog: (listener, logOptions) =>
      local.subscribeLog(listener, { ...logOptions, database: ctx.database }),
    sync: {
      remote,
      async cursor() {
        const [raw] = await replica.get([META_KEY]);
        return (raw as MetaRecord | undefined)?.cursor;
      },
      syncNow() {
        running ??= run().finally(() => {
          running = undefined;
        });
        return running;
      },
      async status() {
        const [meta, states, [raw]] = await Promise.all([
          ensureMeta(ctx),
          readStates(replica),
          replica.get([STATUS_KEY]),
        ]);
        let pending = 0;
        let oldestPendingAt: number | undefined;
        let conflicts = 0;
        for (const state of states) {
          if (state.conflict) conflicts++;
          pending += state.pending;
          const first = state.pending > 0 ? state.since : undefined;
          if (first !== undefined && (oldestPendingAt === undefined || first < oldestPendingAt)) {
            oldestPendingAt = first;
          }
        }
        const status = (raw as StatusRecord | undefined) ?? {};
        return {
          clientId: meta.clientId,
          pending,
          oldestPendingAt,
          conflicts,
          lastSuccessAt: status.lastSuccessAt,
          lastError: status.lastError,
        };
      },
      async pendingStreams() {
        const out: PendingStreamStatus[] = [];
        for (const state of await readStates(replica)) {
          if (state.pending === 0 && !state.conflict) continue;
          out.push({
            ref: state.ref,
            pending: state.pending,
            since: state.pending > 0 ? state.since : undefined,
            ...(state.conflict ? { conflict: state.conflict.kind } : {}),
          });
        }
        // Oldest first; streams with nothing pending (a conflict only) last, in key order.
        return out.sort((a, b) =>
          a.since === undefined
            ? b.since === undefined
              ? 0
              : 1
            : b.since === undefined
              ? -1
              : a.since - b.since,
        );
      },
      conflicts: () => listConflicts<E>(ctx),
      conflict: (ref) => conflictOf<E>(ctx, resolveRef(ref)),
      async resolve(ref, resolution) {
        const id = resolveRef(ref);
        await resolveConflict<E>(ctx, id, resolution);
        ctx.emit({ type: 'resolved', ref: id });
      },
      on(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
  };
};
