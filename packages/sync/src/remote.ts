import { fromWireJson, toWireJson } from '@eventkv/core';
import type { SyncEdge } from './edge/edge.js';
import type {
  PullRequest,
  PullResponse,
  PushRequest,
  PushResponse,
  SyncPrincipal,
  WaitRequest,
  WaitResponse,
} from './protocol.js';

/** What the live connection reads of a socket's events. */
export interface LiveSocketEvent {
  /** A message's text. */
  readonly data?: unknown;
  /** A close's code and reason. */
  readonly code?: number;
  readonly reason?: string;
}

/**
 * The part of a WebSocket the live connection uses: the browser's `WebSocket` (and Node's,
 * and the `ws` package's) is one.
 */
export interface LiveSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: 'open' | 'close' | 'error' | 'message',
    listener: (event: LiveSocketEvent) => void,
  ): void;
}

/** Where a replica's pushes and pulls go: the edge, over HTTP or in process. */
export interface SyncRemote {
  /** The database synced (the token's, over HTTP). */
  readonly database: string;
  push(request: PushRequest): Promise<PushResponse>;
  pull(request: PullRequest): Promise<PullResponse>;
  /**
   * A long-poll (`WaitRequest`): resolves when the edge has events after the cursor, or
   * after the timeout. Absent where the edge cannot wait.
   */
  wait?(request: WaitRequest, signal?: AbortSignal): Promise<WaitResponse>;
  /**
   * Opens the live socket (its token fetched afresh): the edge pokes it when there is
   * something to pull. `clientId` (the replica's) spares it the pokes of its own pushes.
   * Absent where there is no socket to open.
   */
  openSocket?(options?: { readonly clientId?: string }): Promise<LiveSocket>;
}

const viaWire = <T>(value: unknown): T => fromWireJson(toWireJson(value)) as T;

/**
 * An edge in the same process, for tests and for servers that hold both sides.
 * @example
 * const remote = createEdgeRemote(createSyncEdge({ replica }), { database: 'acme', user: 'ann' });
 */
export const createEdgeRemote = (edge: SyncEdge, principal: SyncPrincipal): SyncRemote => ({
  database: principal.database,
  // Through the wire form, as over HTTP: what the replica keeps is never shared with the edge.
  push: async (request) => viaWire(await edge.push(principal, viaWire(request))),
  pull: async (request) => viaWire(await edge.pull(principal, viaWire(request))),
  wait: async (request, signal) => viaWire(await edge.wait(principal, viaWire(request), signal)),
});
