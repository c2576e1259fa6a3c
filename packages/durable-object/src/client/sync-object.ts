import type {
  PullResponse,
  PushResponse,
  SyncEdge,
  SyncPrincipal,
  WaitResponse,
} from '@eventkv/sync/edge';
import { LIVE_PRINCIPAL_HEADER, type LivePrincipal } from '../object/live.js';
import { databaseObjectName } from '../routing/object-names.js';
import { callObject, type EventStoreObjectNamespace } from './object-caller.js';

/** The sync edge of a database's object, with its live sockets. */
export interface SyncObject extends SyncEdge {
  /**
   * Hands a WebSocket upgrade request (`GET /v1/{database}/sync/live`) to the object, for a
   * principal the caller verified: the answer is the object's `101` with the socket.
   */
  live(principal: LivePrincipal, request: Request): Promise<Response>;
}

/**
 * The sync edge of `database`, hosted by its object (`databaseObjectName(database)`, the
 * object of 'database' routing), for a Worker that serves the sync routes. The principal
 * is the one the Worker verified; the object refuses a principal of another database.
 * Calls are retried like `append` (a repeated push is answered from the client's record).
 * @example
 * const edge = syncObject(env.EVENT_STORE, principal.database);
 * return Response.json(await edge.push(principal, await request.json()));
 */
export const syncObject = (namespace: EventStoreObjectNamespace, database: string): SyncObject => {
  const name = databaseObjectName(database);
  return {
    push: (principal, request) =>
      callObject<PushResponse>(namespace, name, 'syncPush', (rpc) =>
        rpc.syncPush({ principal, request }),
      ),
    pull: (principal, request) =>
      callObject<PullResponse>(namespace, name, 'syncPull', (rpc) =>
        rpc.syncPull({ principal, request }),
      ),
    wait: (principal: SyncPrincipal, request: unknown) =>
      callObject<WaitResponse>(namespace, name, 'syncWait', (rpc) =>
        rpc.syncWait({ principal, request }),
      ),
    live: (principal, request) => {
      const headers = new Headers(request.headers);
      headers.set(LIVE_PRINCIPAL_HEADER, JSON.stringify(principal));
      headers.delete('Authorization');
      const stub = namespace.get(namespace.idFromName(name));
      return stub.fetch(new Request(request.url, { method: 'GET', headers }));
    },
  };
};
