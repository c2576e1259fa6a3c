export type { Resolution } from './conflicts.js';
export type { Conflict, Decider, SyncEvent, SyncedEvent } from './context.js';
export type { SyncEdge, SyncEdgeOptions } from './edge/edge.js';
export { createSyncEdge } from './edge/edge.js';
export type { HttpSyncRemoteOptions } from './http-remote.js';
export { createHttpSyncRemote } from './http-remote.js';
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
} from './protocol.js';
export { MAX_PULL_LIMIT, MAX_PUSH_ENTRIES, SYNC_PROTOCOL } from './protocol.js';
export type { SyncRemote } from './remote.js';
export { createEdgeRemote } from './remote.js';
export type {
  SyncControls,
  SyncedEventStream,
  SyncedStore,
  SyncedStoreOptions,
  SyncStatus,
} from './synced-store.js';
export { createSyncedStore } from './synced-store.js';
export type { SyncedAppendOptions } from './synced-stream.js';
export type { SyncedSubscribeOptions } from './synced-tail.js';
