import { InvalidArgumentError } from '@eventkv/core';
import type {
  PullResponse,
  PushResponse,
  SyncEdge,
  SyncPrincipal,
  WaitResponse,
} from '@eventkv/sync/edge';
import { LIVE_PRINCIPAL_HEADER, type LivePrincipal } from '../object/live.js';
import { databaseObjectName, type Routing } from '../routing/object-names.js';
import { forwardedUpgrade } from './forwarded-upgrade.js';
import { callObject, type EventStoreObjectNamespace } from './object-caller.js';

/** The sync edge of a database's object, with its live sockets. */
export interface SyncObject extends SyncEdge {
  /**
   * Hands a WebSocket upgrade request (`GET /v1/{database}/sync/live`) to the object, for a
   * principal the caller verified: the answer is the object's `101` with the socket.
   */
  live(principal: LivePrincipal, request: Request): Promise<Response>;
}

export interface SyncObjectOptions {
  /**
   * Where the database's streams live, as for `createDurableObjectEventStore` (default
   * `'stream'`: one object per stream, and the database's object is their feed;
   * `'database'`: the database's object holds them). Under either, the database's object
   * serves the edge: under `'stream'` a push appends in the stream objects and is answered
   * once the feed holds its events; pulls, long-polls and pokes come from the feed.
   */
  readonly routing?: Routing;
}

/**
 * The sync edge of `database`, hosted by its object (`databaseObjectName(database)`), for
 * a Worker that serves the sync routes. The principal is the one the Worker verified; the
 * object refuses a principal of another database. Calls are retried like `append` (a
 * repeated push is answered from the client's record).
 * @example
 * const edge = syncObject(env.EVENT_STORE, principal.database);
 * return Response.json(await edge.push(principal, await request.json()));
 */
export const syncObject = (
  namespace: EventStoreObjectNamespace,
  database: string,
  options: SyncObjectOptions = {},
): SyncObject => {
  const name = databaseObjectName(database);
  const routing = options.routing ?? 'stream';
  if (routing !== 'stream' && routing !== 'database') {
    throw new InvalidArgumentError('options.routing', "must be 'stream' or 'database'");
  }
  return {
    push: (principal, request) =>
      callObject<PushResponse>(namespace, name, 'syncPush', (rpc) =>
        rpc.syncPush({ principal, request, routing }),
      ),
    pull: (principal, request) =>
      callObject<PullResponse>(namespace, name, 'syncPull', (rpc) =>
        rpc.syncPull({ principal, request, routing }),
      ),
    wait: (principal: SyncPrincipal, request: unknown) =>
      callObject<WaitResponse>(namespace, name, 'syncWait', (rpc) =>
        rpc.syncWait({ principal, request, routing }),
      ),
    live: (principal, request) => {
      const stub = namespace.get(namespace.idFromName(name));
      return stub.fetch(forwardedUpgrade(request, LIVE_PRINCIPAL_HEADER, principal));
    },
  };
};
