import { DurableObject } from 'cloudflare:workers';
import {
  type AppendResult,
  createEventStore,
  type EventShape,
  type EventStore,
  type EventStoreOptions,
  type EventStream,
  InvalidArgumentError,
  isInvalidSessionError,
  isNotOpenError,
  isSessionExpiredError,
  type LoadResult,
  type LogPage,
  type QueryPage,
  type RecordedEvent,
  type Snapshot,
  type StreamRef,
} from '@eventkv/core';
import { createDurableObjectKv } from '../kv/durable-object-kv.js';
import { databaseObjectName, streamObjectName, toStreamId } from '../routing/object-names.js';
import { type RpcResult, settle } from '../rpc/result.js';
import type {
  AppendCall,
  OpenCall,
  QueryCall,
  ReadCall,
  ReadLogCall,
  SaveSnapshotCall,
  SessionCall,
  SessionInfo,
  SnapshotCall,
  StreamCall,
  VersionOfCall,
} from './calls.js';

/** Store settings an `EventStoreObject` subclass may set (everything but the storage). */
export type EventStoreObjectOptions = Omit<EventStoreOptions, 'kv'>;

/**
 * A Durable Object hosting an event store on its own SQLite-backed storage, served over
 * Workers RPC. Every method returns an `RpcResult` (errors as data); use
 * `createDurableObjectEventStore` on the calling side to get the store API back, with
 * the same error classes. Nothing is kept in memory between calls but the store itself:
 * sessions are re-attached from their lease in storage on each call, so an evicted or
 * restarted object loses nothing.
 *
 * Objects are addressed by name (`streamObjectName` or `databaseObjectName`); an object
 * with a name refuses streams that belong to another object.
 *
 * @example
 * export class EventStore extends EventStoreObject<Env> {
 *   protected override storeOptions() {
 *     return { sessionTimeoutMs: 30_000, indexes: ['eventType'] as const };
 *   }
 * }
 */
export class EventStoreObject<Env = unknown> extends DurableObject<Env> {
  #store: EventStore | undefined;

  /**
   * Settings of the hosted store (codec, indexes, timeouts, logger...). Called once, on
   * the first call the object serves, so subclasses may use their own fields.
   */
  protected storeOptions(): EventStoreObjectOptions {
    return {};
  }

  /** The hosted store, for subclasses that add methods of their own. */
  protected get store(): EventStore {
    this.#store ??= createEventStore({
      ...this.storeOptions(),
      kv: createDurableObjectKv(this.ctx.storage),
    });
    return this.#store;
  }

  /** A session-less handle, or the session `sessionId` re-attached from its lease. */
  async #stream({ ref, sessionId }: StreamCall): Promise<EventStream> {
    this.#checkRouting(ref);
    return sessionId === undefined ? this.store.stream(ref) : this.store.resume(ref, sessionId);
  }

  // A named object holds one stream or one database; serving another here would split its
  // data between two objects, so such a call is refused.
  #checkRouting(ref: StreamRef | undefined, database?: string): void {
    const name = this.ctx.id.name;
    if (name === undefined) return;
    if (ref === undefined) {
      if (name === databaseObjectName(database)) return;
      throw new InvalidArgumentError(
        'routing',
        `database-wide queries of database '${database ?? 'default'}' need the object named ` +
          `'${databaseObjectName(database)}' ('database' routing), not '${name}'`,
      );
    }
    const { database: db } = toStreamId(ref);
    if (name === streamObjectName(ref) || name === databaseObjectName(db)) return;
    throw new InvalidArgumentError(
      'ref',
      `stream ${ref.type}/${ref.id} of database '${db}' does not live in the object named '${name}'`,
    );
  }

  append(call: AppendCall): Promise<RpcResult<AppendResult>> {
    return settle('append', async () =>
      (await this.#stream(call)).append(call.events, call.options),
    );
  }

  read(call: ReadCall): Promise<RpcResult<RecordedEvent[]>> {
    return settle('read', async () => (await this.#stream(call)).read(call.options));
  }

  version(call: StreamCall): Promise<RpcResult<number>> {
    return settle('version', async () => (await this.#stream(call)).version());
  }

  versionOf(call: VersionOfCall): Promise<RpcResult<number>> {
    return settle('versionOf', async () => (await this.#stream(call)).versionOf(call.messageId));
  }

  load(call: StreamCall): Promise<RpcResult<LoadResult<EventShape, unknown>>> {
    return settle('load', async () => (await this.#stream(call)).load());
  }

  saveSnapshot(call: SaveSnapshotCall): Promise<RpcResult<void>> {
    return settle('saveSnapshot', async () =>
      (await this.#stream(call)).saveSnapshot(call.version, call.state),
    );
  }

  latestSnapshot(call: StreamCall): Promise<RpcResult<Snapshot | undefined>> {
    return settle('latestSnapshot', async () => (await this.#stream(call)).latestSnapshot());
  }

  snapshotAt(call: SnapshotCall): Promise<RpcResult<Snapshot>> {
    return settle('snapshotAt', async () => (await this.#stream(call)).snapshotAt(call.version));
  }

  snapshotVersions(call: StreamCall): Promise<RpcResult<number[]>> {
    return settle('snapshotVersions', async () => (await this.#stream(call)).snapshotVersions());
  }

  deleteSnapshot(call: SnapshotCall): Promise<RpcResult<void>> {
    return settle('deleteSnapshot', async () =>
      (await this.#stream(call)).deleteSnapshot(call.version),
    );
  }

  clearSnapshots(call: StreamCall): Promise<RpcResult<number>> {
    return settle('clearSnapshots', async () => (await this.#stream(call)).clearSnapshots());
  }

  /** Takes the stream's lease; later calls of the session pass the returned `sessionId`. */
  open(call: OpenCall): Promise<RpcResult<SessionInfo>> {
    return settle('open', async () => {
      this.#checkRouting(call.ref);
      const session = await this.store.open(call.ref, call.options);
      return { sessionId: session.sessionId, expiresAt: session.expiresAt };
    });
  }

  /** Checks that `sessionId` still holds the stream's lease, and until when. */
  resume(call: SessionCall): Promise<RpcResult<SessionInfo>> {
    return settle('resume', async () => {
      this.#checkRouting(call.ref);
      const session = await this.store.resume(call.ref, call.sessionId);
      return { sessionId: session.sessionId, expiresAt: session.expiresAt };
    });
  }

  renew(call: SessionCall): Promise<RpcResult<SessionInfo>> {
    return settle('renew', async () => {
      this.#checkRouting(call.ref);
      const session = await this.store.resume(call.ref, call.sessionId);
      await session.renew();
      return { sessionId: session.sessionId, expiresAt: session.expiresAt };
    });
  }

  /**
   * Releases the session's lease. Idempotent: a session that no longer holds the lease
   * (closed, expired, taken over) has nothing to release.
   */
  close(call: SessionCall): Promise<RpcResult<void>> {
    return settle('close', async () => {
      this.#checkRouting(call.ref);
      try {
        await (await this.store.resume(call.ref, call.sessionId)).close();
      } catch (error) {
        if (isNotOpenError(error) || isSessionExpiredError(error) || isInvalidSessionError(error)) {
          return;
        }
        throw error;
      }
    });
  }

  /** Database-wide: only meaningful in an object that holds the whole database. */
  query(call: QueryCall): Promise<RpcResult<QueryPage<EventShape>>> {
    return settle('query', async () => {
      this.#checkRouting(undefined, call.options?.database);
      return this.store.query(call.index, call.value, call.options);
    });
  }

  /** Database-wide: only meaningful in an object that holds the whole database. */
  readLog(call: ReadLogCall = {}): Promise<RpcResult<LogPage<EventShape>>> {
    return settle('readLog', async () => {
      this.#checkRouting(undefined, call.options?.database);
      return this.store.readLog(call.options);
    });
  }
}
