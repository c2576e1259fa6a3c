import type { PullResponse, PushResponse, SyncEdge } from '@eventkv/sync/edge';
import { databaseObjectName } from '../routing/object-names.js';
import { callObject, type EventStoreObjectNamespace } from './object-caller.js';

/**
 * The sync edge of `database`, hosted by its object (`databaseObjectName(database)`, the
 * object of 'database' routing), for a Worker that serves the sync routes. The principal
 * is the one the Worker verified; the object refuses a principal of another database.
 * Calls are retried like `append` (a repeated push is answered from the client's record).
 * @example
 * const edge = syncObject(env.EVENT_STORE, principal.database);
 * return Response.json(await edge.push(principal, await request.json()));
 */
export const syncObject = (namespace: EventStoreObjectNamespace, database: string): SyncEdge => {
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
  };
};
