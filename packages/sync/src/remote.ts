import { fromWireJson, toWireJson } from '@eventkv/core';
import type { SyncEdge } from './edge/edge.js';
import type {
  PullRequest,
  PullResponse,
  PushRequest,
  PushResponse,
  SyncPrincipal,
} from './protocol.js';

/** Where a replica's pushes and pulls go: the edge, over HTTP or in process. */
export interface SyncRemote {
  /** The database synced (the token's, over HTTP). */
  readonly database: string;
  push(request: PushRequest): Promise<PushResponse>;
  pull(request: PullRequest): Promise<PullResponse>;
}

/**
 * An edge in the same process, for tests and for servers that hold both sides.
 * @example
 * const remote = createEdgeRemote(createSyncEdge({ replica }), { database: 'acme', user: 'ann' });
 */
export const createEdgeRemote = (edge: SyncEdge, principal: SyncPrincipal): SyncRemote => ({
  database: principal.database,
  // Through the wire form, as over HTTP: what the replica keeps is never shared with the edge.
  push: async (request) =>
    fromWireJson(
      toWireJson(await edge.push(principal, fromWireJson(toWireJson(request)))),
    ) as PushResponse,
  pull: async (request) =>
    fromWireJson(
      toWireJson(await edge.pull(principal, fromWireJson(toWireJson(request)))),
    ) as PullResponse,
});
