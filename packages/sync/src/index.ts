export type { LiveTuning, SyncAgent, SyncAgentEvent, SyncAgentOptions } from './agent/agent.js';
export { startSync } from './agent/agent.js';
export type {
  BackgroundSyncLike,
  ChannelMessageEvent,
  ChannelPort,
  LockManagerLike,
  StorageLike,
  SyncAgentEnvironment,
  VisibilityWatch,
} from './agent/environment.js';
export { platformEnvironment } from './agent/environment.js';
export type { SyncAgentStatus, SyncRole } from './agent/status.js';
export type { Resolution } from './conflicts.js';
export type { Conflict, Decider, SyncEvent, SyncedEvent } from './context.js';
export type { EdgeChange, LocalSyncEdge, SyncEdge, SyncEdgeOptions } from './edge/edge.js';
export { createSyncEdge } from './edge/edge.js';
export type { HttpSyncRemoteOptions } from './http-remote.js';
export { createHttpSyncRemote } from './http-remote.js';
export type {
  BackoffPolicy,
  EventTargetLike,
  LiveConnection,
  LiveConnectionOptions,
  LiveState,
  NetworkWatch,
  Timers,
} from './live.js';
export { createLiveConnection } from './live.js';
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
} from './protocol.js';
export {
  DEFAULT_WAIT_MS,
  LIVE_CLOSE_TOKEN_EXPIRED,
  LIVE_SUBPROTOCOL,
  MAX_PULL_LIMIT,
  MAX_PUSH_ENTRIES,
  MAX_WAIT_MS,
  SYNC_PROTOCOL,
} from './protocol.js';
export type { LiveSocket, LiveSocketEvent, SyncRemote } from './remote.js';
export { createEdgeRemote } from './remote.js';
export type {
  PendingStreamStatus,
  SyncControls,
  SyncedEventStream,
  SyncedStore,
  SyncedStoreOptions,
  SyncStatus,
} from './synced-store.js';
export { createSyncedStore } from './synced-store.js';
export type { SyncedAppendOptions } from './synced-stream.js';
export type { SyncedSubscribeOptions } from './synced-tail.js';
