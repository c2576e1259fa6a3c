export type { DurableObjectEventStoreOptions } from './client/durable-object-event-store.js';
export { createDurableObjectEventStore } from './client/durable-object-event-store.js';
export type {
  EventStoreObjectNamespace,
  EventStoreObjectRpc,
  EventStoreObjectStub,
} from './client/object-caller.js';
export { eventStoreObjectRpc } from './client/object-caller.js';
export type { PushSockets } from './client/push-sockets.js';
export { pushSockets } from './client/push-sockets.js';
export { FEED_CHECK_MS, feedHolds } from './client/remote-waits.js';
export type { SyncObject, SyncObjectOptions } from './client/sync-object.js';
export { syncObject } from './client/sync-object.js';
export type { DurableObjectKvOptions } from './kv/durable-object-kv.js';
export { createDurableObjectKv, DURABLE_OBJECT_MAX_ENTRY_BYTES } from './kv/durable-object-kv.js';
export type {
  AppendCall,
  FeedDeliverCall,
  FeedDeliverResult,
  FeedWaitCall,
  LoadPage,
  OpenCall,
  PageLimits,
  QueryCall,
  ReadCall,
  ReadLogCall,
  ReadPage,
  SaveSnapshotCall,
  SessionCall,
  SessionInfo,
  SnapshotCall,
  StreamCall,
  SyncCall,
  VersionOfCall,
  WirePage,
  WirePageCall,
} from './object/calls.js';
export { MAX_FEED_WAIT_MS } from './object/calls.js';
export type { EventStoreObjectOptions } from './object/event-store-object.js';
export { EventStoreObject } from './object/event-store-object.js';
export { type LivePrincipal, MAX_LIVE_SOCKETS } from './object/live.js';
export type { PushSubscription } from './object/live-push.js';
export { MAX_PUSH_SOCKETS, PUSH_HEADER } from './object/live-push.js';
export type { WaitLogCall, WaitStreamCall } from './object/waits.js';
export { MAX_WAIT_MS, MAX_WAITS } from './object/waits.js';
export { WIRE_PAGE_MAX_BYTES } from './object/wire-page.js';
export type { Routing } from './routing/object-names.js';
export { databaseObjectName, objectNameFor, streamObjectName } from './routing/object-names.js';
export type { RpcResult } from './rpc/result.js';
export { unwrapResult } from './rpc/result.js';
