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
  WaitRequest,
  WaitResponse,
} from '../protocol.js';
export {
  LIVE_CLOSE_TOKEN_EXPIRED,
  LIVE_SUBPROTOCOL,
  LIVE_TOKEN_PREFIX,
  MAX_PULL_LIMIT,
  MAX_PUSH_ENTRIES,
  MAX_WAIT_MS,
  PING,
  POKE,
  PONG,
  SYNC_PROTOCOL,
} from '../protocol.js';
export type { EdgeChange, LocalSyncEdge, SyncEdge, SyncEdgeOptions } from './edge.js';
export { createSyncEdge } from './edge.js';
