import {
  defaultIdGenerator,
  type EventStore,
  type EventStream,
  errorToJSON,
  InvalidArgumentError,
  isDuplicateIdempotencyIdError,
  isInvalidArgumentError,
  isKvConditionError,
  isStreamLockedError,
  isVersionMismatchError,
  type RecordedEvent,
  type StreamId,
} from '@eventkv/core';
import type { Replica } from '@eventkv/core/replica';
import {
  type PullResponse,
  type PushEntry,
  type PushResponse,
  type StreamResult,
  SYNC_PROTOCOL,
  type SyncPrincipal,
  type WaitResponse,
} from '../protocol.js';
import { copyUpTo, STREAM_CALLS_AT_ONCE, settleInTurns } from './feed-copy.js';
import {
  type ClientRecord,
  clientKey,
  digestOf,
  ensureServerId,
  type StoredResult,
} from './records.js';
import { validatePull, validatePush, validateWait } from './validate.js';

export interface SyncEdgeOptions {
  /** The database's store with room for the edge's own records (`createReplica`). */
  readonly replica: Replica;
  /** Makes this database's identity on first use (default: `defaultIdGenerator`, version 7 UUIDs). */
  readonly generateId?: () => string;
  /** How many of the edge's events a conflict carries (default 100; the rest are pulled). */
  readonly conflictPage?: number;
  /**
   * The streams' own store, when `replica` holds only a copy of them: a database feed that
   * the streams deliver to (a Durable Object per stream). A push appends there, where each
   * stream's versions are decided; then, before it is answered, the edge copies what each
   * stream it touched holds up to the version it answered into `replica` (idempotent by
   * (stream, version), as a delivery is), so that the log pulls read holds a push's events
   * once it is answered. Default: `replica.store` (the streams and the log are one store).
   */
  readonly streams?: Pick<EventStore, 'stream'>;
  /**
   * With `streams`: asks a stream's own store to deliver it to `replica` up to `version`
   * (a stream object's delivery to its feed), resolving `true` once it did. The edge asks
   * before copying a stream a push touched, and copies only what is still missing after
   * (all of it when this resolves `false`, as when the feed's delivery is failing): so
   * each event reaches the replica once, by the delivery that the stream's store then
   * knows was acknowledged, not once by the copy and again by the delivery (which the
   * replica skips). Default: none (the edge copies).
   */
  readonly deliver?: (ref: StreamId, version: number) => Promise<boolean>;
}

/** The edge side of the sync protocol, over one store. Host it where the store lives. */
export interface SyncEdge {
  /** Applies a push (`PushRequest`) for a verified principal. */
  push(principal: SyncPrincipal, request: unknown): Promise<PushResponse>;
  /** Answers a pull (`PullRequest`) for a verified principal. */
  pull(principal: SyncPrincipal, request: unknown): Promise<PullResponse>;
  /**
   * Answers a long-poll (`WaitRequest`): when the log holds events after its cursor (the
   * edge's own pushes and every `notify()` wake it), or at its timeout, or when `signal`
   * aborts (`changed: false`).
   */
  wait(principal: SyncPrincipal, request: unknown, signal?: AbortSignal): Promise<WaitResponse>;
}

/** The edge in the process that holds its store: it also hears the store's other writes. */
export interface LocalSyncEdge extends SyncEdge {
  /**
   * Says the database's log may have grown outside a push (an append through the store):
   * waiting long-polls look again and `onChange` listeners hear it.
   */
  notify(change?: EdgeChange): void;
  /** Hears every change (a push that appended, a `notify`); returns its removal. */
  onChange(listener: (change: EdgeChange) => void): () => void;
}

/** A change of the edge's log. */
export interface EdgeChange {
  /** The replica whose push made it (its own socket needs no poke). */
  readonly clientId?: string;
}

/**
 * The edge of the sync protocol (PROTOCOL.md): per-stream appends with expected versions,
 * two layers of idempotency (message ids per stream, and the client's (epoch, seq) with
 * the results it got), conflicts that carry the edge's events, and pulls of the log.
 * @example
 * const edge = createSyncEdge({ replica: createReplica({ kv }) });
 * const response = await edge.push({ database: 'acme', user: 'ann' }, await request.json());
 */
export const createSyncEdge = (options: SyncEdgeOptions): LocalSyncEdge => {
  const { replica } = options;
  const generateId = options.generateId ?? defaultIdGenerator;
  const conflictPage = options.conflictPage ?? 100;
  const store = replica.store;
  const streams = options.streams ?? store;
  const listeners = new Set<(change: EdgeChange) => void>();
  const notify = (change: EdgeChange = {}): void => {
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own.
      }
    }
  };
  const onChange = (listener: (change: EdgeChange) => void) => {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  };

  const checkLog = (kind: string): void => {
    if (!store.capabilities.readLog) {
      throw new InvalidArgumentError(
        kind,
        `this edge's store keeps no global log: ${kind} needs the store of a whole database ` +
          "(a database's object, or its feed under 'stream' routing)",
      );
    }
  };

  const refOf = (database: string, entry: { stream: PushEntry['stream'] }) => ({
    database,
    type: entry.stream.type,
    id: entry.stream.id,
  });
  /** A stream as the log's store holds it: what answers and pulls read. */
  const streamOf = (database: string, entry: { stream: PushEntry['stream'] }): EventStream =>
    store.stream(refOf(database, entry));

  /** Appends one entry; a failure that is the entry's own becomes its result. */
  const apply = async (database: string, entry: PushEntry): Promise<StoredResult> => {
    const stream = streams.stream(refOf(database, entry));
    try {
      const result = await stream.append(entry.events, {
        expectedVersion: entry.expectedVersion,
      });
      return {
        status: result.deduplicated ? 'duplicate' : 'accepted',
        stream: entry.stream,
        firstVersion: result.firstVersion,
        version: result.version,
      };
    } catch (error) {
      if (isVersionMismatchError(error)) {
        return {
          status: 'conflict',
          stream: entry.stream,
          expected: entry.expectedVersion,
          actual: error.actual,
        };
      }
      if (isInvalidArgumentError(error) || isDuplicateIdempotencyIdError(error)) {
        return { status: 'rejected', stream: entry.stream, error: errorToJSON(error) };
      }
      if (isStreamLockedError(error)) {
        return { status: 'deferred', stream: entry.stream, error: errorToJSON(error) };
      }
      // Storage failed: the whole push fails and is not recorded; its retry re-applies
      // it, and the entries that landed answer as duplicates (their message ids).
      throw error;
    }
  };

  /**
   * With the streams in a store of their own: brings the log's copy of every stream the
   * push touched up to the version the push answered (its appends, or a conflict's
   * `actual`), so that its answer and the pulls after it read them from the log. A copy
   * that fails fails the push, unrecorded: its retry appends nothing twice (message ids)
   * and copies again.
   */
  const copyToLog = async (database: string, stored: readonly StoredResult[]): Promise<boolean> => {
    const copied = await settleInTurns(stored, STREAM_CALLS_AT_ONCE, (result) => {
      const version =
        result.status === 'accepted' || result.status === 'duplicate'
          ? result.version
          : result.status === 'conflict'
            ? result.actual
            : 0;
      return version > 0
        ? copyUpTo(replica, streams, refOf(database, result), version, options.deliver)
        : Promise.resolve(false);
    });
    const failed = copied.find((one) => one.status === 'rejected');
    if (failed) throw failed.reason;
    return copied.some((one) => one.status === 'fulfilled' && one.value);
  };

  /** A stored result with the events it refers to, read now. */
  const answer = async (database: string, stored: StoredResult): Promise<StreamResult> => {
    const stream = streamOf(database, stored);
    if (stored.status === 'accepted' || stored.status === 'duplicate') {
      const events = await stream.read({ from: stored.firstVersion, to: stored.version });
      return { status: stored.status, stream: stored.stream, events };
    }
    if (stored.status === 'conflict') {
      const events: RecordedEvent[] =
        stored.actual > stored.expected
          ? await stream.read({ from: stored.expected + 1, limit: conflictPage })
          : [];
      const actual = Math.max(stored.actual, events.at(-1)?.version ?? 0);
      return {
        ...stored,
        actual,
        events,
        more: actual > stored.expected + events.length,
      };
    }
    return stored as StreamResult;
  };

  return {
    async push(principal, message) {
      const request = validatePush(message);
      const { database, user } = principal;
      const serverId = await ensureServerId(replica, database, generateId);
      const key = clientKey(database, request.clientId);
      const [raw] = await replica.get([key]);
      const known = raw as ClientRecord | undefined;
      if (known && known.user !== user) {
        throw new InvalidArgumentError('clientId', 'belongs to another user: make a new one');
      }
      const digest = digestOf(request.entries);
      const base = { protocol: SYNC_PROTOCOL, serverId } as const;
      if (known) {
        const fenced = { ...base, outcome: 'fenced', epoch: known.epoch, seq: known.seq } as const;
        if (request.epoch < known.epoch) return fenced;
        if (request.epoch === known.epoch) {
          if (request.seq === known.seq) {
            if (digest !== known.digest) return fenced;
            const results = await Promise.all(known.results.map((r) => answer(database, r)));
            return { ...base, outcome: 'applied', seq: known.seq, replayed: true, results };
          }
          if (request.seq < known.seq) return fenced;
          if (request.seq > known.seq + 1) {
            return { ...base, outcome: 'gap', expectedSeq: known.seq + 1 };
          }
        } else if (request.seq !== 1) {
          return { ...base, outcome: 'gap', expectedSeq: 1 };
        }
      }
      const stored: StoredResult[] = [];
      let copied = false;
      try {
        if (options.streams) {
          // Each entry is a call to its own stream's store (another object): they go out
          // a few at a time, and the push fails, unrecorded, if any of them failed.
          const settled = await settleInTurns(request.entries, STREAM_CALLS_AT_ONCE, (entry) =>
            apply(database, entry),
          );
          for (const one of settled) if (one.status === 'fulfilled') stored.push(one.value);
          const failed = settled.find((one) => one.status === 'rejected');
          if (failed) throw failed.reason;
          copied = await copyToLog(database, stored);
        } else {
          for (const entry of request.entries) stored.push(await apply(database, entry));
        }
      } finally {
        if (copied || stored.some((r) => r.status === 'accepted')) {
          notify({ clientId: request.clientId });
        }
      }
      const record: ClientRecord = {
        user,
        epoch: request.epoch,
        seq: request.seq,
        digest,
        results: stored,
      };
      // Checked against what was read: two pushes of one client racing cannot both count.
      try {
        await replica.commit({
          checks: [known ? { key, equals: known } : { key, absent: true }],
          puts: [{ key, value: record }],
        });
      } catch (error) {
        if (!isKvConditionError(error)) throw error;
        // A copy of this push (a retry sent while the first was in flight) was recorded
        // first: both applied the same message ids, so its results are these too.
        const [now] = await replica.get([key]);
        const winner = now as ClientRecord | undefined;
        if (
          winner?.epoch !== request.epoch ||
          winner.seq !== request.seq ||
          winner.digest !== digest
        ) {
          return { ...base, outcome: 'fenced', epoch: winner?.epoch ?? 0, seq: winner?.seq ?? 0 };
        }
      }
      const results = await Promise.all(stored.map((r) => answer(database, r)));
      return { ...base, outcome: 'applied', seq: request.seq, replayed: false, results };
    },

    async pull(principal, message) {
      const request = validatePull(message);
      const { database } = principal;
      checkLog('pull');
      const serverId = await ensureServerId(replica, database, generateId);
      const base = { protocol: SYNC_PROTOCOL, serverId } as const;
      const start = { serverId, position: 0 };
      if (request.cursor && request.cursor.serverId !== serverId) {
        return { ...base, reset: 'server-changed', cursor: start };
      }
      const after = request.cursor?.position ?? 0;
      const page = await store.readLog({ database, after, limit: request.limit });
      if (page.events.length === 0 && after > 0) {
        const [atCursor] = (await store.readLog({ database, after: after - 1, limit: 1 })).events;
        if (atCursor === undefined) return { ...base, reset: 'past-end', cursor: start };
      }
      const wanted = request.streams
        ? new Set(request.streams.map((s) => JSON.stringify([s.type, s.id])))
        : undefined;
      const events = wanted
        ? page.events.filter((e) =>
            wanted.has(JSON.stringify([e.metadata.aggregateType, e.metadata.aggregateId])),
          )
        : page.events;
      return {
        ...base,
        events,
        cursor: { serverId, position: page.position },
        more: page.events.length === request.limit,
      };
    },

    async wait(principal, message, signal) {
      const request = validateWait(message);
      const { database } = principal;
      checkLog('wait');
      const serverId = await ensureServerId(replica, database, generateId);
      const answer = (changed: boolean): WaitResponse => ({
        protocol: SYNC_PROTOCOL,
        serverId,
        changed,
      });
      const { cursor } = request;
      if (cursor === undefined || cursor.serverId !== serverId) return answer(true);
      const grown = async () =>
        (await store.readLog({ database, after: cursor.position, limit: 1 })).events.length > 0;
      return new Promise<WaitResponse>((resolve, reject) => {
        let settled = false;
        const settle = (outcome: boolean | Error) => {
          if (settled) return;
          settled = true;
          remove();
          clearTimeout(timer);
          signal?.removeEventListener('abort', aborted);
          if (outcome instanceof Error) reject(outcome);
          else resolve(answer(outcome));
        };
        const look = () => {
          grown().then(
            (yes) => yes && settle(true),
            (error: Error) => settle(error),
          );
        };
        const aborted = () => settle(false);
        // Listening before the first look: a change between the two is not missed.
        const remove = onChange(look);
        const timer = setTimeout(() => settle(false), request.timeoutMs);
        if (signal?.aborted) return aborted();
        signal?.addEventListener('abort', aborted);
        look();
      });
    },

    notify,
    onChange,
  };
};
