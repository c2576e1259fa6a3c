import { checkName, InvalidArgumentError, type StreamId } from '@eventkv/core';
import type { Replica } from '@eventkv/core/replica';
import { createSyncEdge, type EdgeChange, type LocalSyncEdge } from '@eventkv/sync/edge';
import { createDurableObjectEventStore } from '../client/durable-object-event-store.js';
import { type EventStoreObjectNamespace, eventStoreObjectRpc } from '../client/object-caller.js';
import { databaseObjectName, type Routing, streamObjectName } from '../routing/object-names.js';
import { unwrapResult } from '../rpc/result.js';

/** What the sync edges of a database's object need of it. */
export interface SyncEdgesPort {
  /** The object's name (undefined for an object made without one). */
  readonly name: string | undefined;
  /** The object's store, with the edge's records beside it. */
  replica(): Replica;
  /** The namespace of the stream objects (`EventStoreObject.feedNamespace`), if any. */
  feedNamespace(): EventStoreObjectNamespace | undefined;
  /** Hears every change an edge sees (a push that appended, a `notify`). */
  changed(change: EdgeChange): void;
}

/**
 * The sync edges of a database's object, one per routing its callers use (the object
 * cannot tell the routing by itself: the same class serves both, and the same namespace
 * may hold databases of both).
 *
 * - `'database'`: the object holds the database's streams; pushes append here and pulls
 *   read this object's log.
 * - `'stream'`: the object is the database's feed. Each stream lives in its own object,
 *   the authority on its versions: pushes append there (conflicts are decided there,
 *   message ids deduplicate there). Before a push is answered, the feed copies what each
 *   stream it touched holds up to the version answered, idempotently by (stream,
 *   version), the way a delivery is applied: so a push is answered only once the log that
 *   pulls read holds its events. It first asks each of those stream objects to deliver
 *   (`feedFlush`), so the events come once, by the delivery the stream object then knows
 *   was acknowledged; only what that leaves missing (a delivery that is failing) is read
 *   from the stream object and copied. Pulls,
 *   long-polls and live pokes come from the feed, which learns of other appends through
 *   `feedDeliver`.
 */
export class SyncEdges {
  readonly #port: SyncEdgesPort;
  readonly #edges = new Map<Routing, LocalSyncEdge>();

  constructor(port: SyncEdgesPort) {
    this.#port = port;
  }

  /**
   * The edge for a principal of the database this object holds, under `routing` (default
   * `'database'`). Sync appends to and pulls the log of one database, so it is served by
   * the database's object only.
   */
  edge(principal: unknown, routing: unknown): LocalSyncEdge {
    checkPrincipal(this.#port.name, principal);
    if (routing !== undefined && routing !== 'database' && routing !== 'stream') {
      throw new InvalidArgumentError('routing', "must be 'stream' or 'database'");
    }
    const wanted: Routing = routing ?? 'database';
    let edge = this.#edges.get(wanted);
    if (edge === undefined) {
      edge = createSyncEdge({
        replica: this.#port.replica(),
        ...(wanted === 'stream' ? { streams: this.#streams(), deliver: this.#deliver() } : {}),
      });
      edge.onChange((change) => this.#port.changed(change));
      this.#edges.set(wanted, edge);
    }
    return edge;
  }

  /**
   * Tells every edge made so far that the log may have grown (their long-polls look
   * again, and their listeners hear it); `false` when there is none.
   */
  notify(change: EdgeChange): boolean {
    for (const edge of this.#edges.values()) edge.notify(change);
    return this.#edges.size > 0;
  }

  /** The stream objects' store, which appends under 'stream' routing. */
  #streams() {
    const namespace = this.#port.feedNamespace();
    if (namespace === undefined) {
      throw new InvalidArgumentError(
        'routing',
        "sync under 'stream' routing needs the database's feed, and this object's class " +
          'names no namespace to deliver to (override feedNamespace())',
      );
    }
    return createDurableObjectEventStore(namespace, { routing: 'stream' });
  }

  /**
   * A stream object's own delivery, asked for by a push before the edge copies the stream
   * (`SyncEdgeOptions.deliver`): the events then reach the feed once, and the stream object
   * learns that the feed holds them.
   */
  #deliver() {
    const namespace = this.#port.feedNamespace();
    return async (ref: StreamId): Promise<boolean> => {
      const object = eventStoreObjectRpc(
        namespace?.get(namespace.idFromName(streamObjectName(ref))) ?? {},
      );
      return unwrapResult(await object.feedFlush({ ref }));
    };
  }
}

/**
 * Checks a sync principal (a database and a user) and that this object is its database's:
 * under either routing, the database's object hosts the edge.
 */
export const checkPrincipal = (name: string | undefined, principal: unknown): void => {
  const { database, user } = (principal ?? {}) as { database?: unknown; user?: unknown };
  checkName('principal.database', database);
  checkName('principal.user', user);
  const wanted = databaseObjectName(database as string);
  if (name !== undefined && name !== wanted) {
    throw new InvalidArgumentError(
      'routing',
      `sync of database '${String(database)}' is served by the database's object ` +
        `'${wanted}', not '${name}'`,
    );
  }
};
