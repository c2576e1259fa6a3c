export type {
  PullRequest,
  PullResponse,
  PushEntry,
  PushRequest,
  PushResponse,
  StreamKey,
  StreamResult,
  SyncCursor,
  SyncPrincipal,
} from '../protocol.js';
export { MAX_PULL_LIMIT, MAX_PUSH_ENTRIES, SYNC_PROTOCOL } from '../protocol.js';
export type { SyncEdge, SyncEdgeOptions } from './edge.js';
export { createSyncEdge } from './edge.js';
