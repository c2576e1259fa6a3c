export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export { structuredCodec } from './codec/structured.js';
export type { Class, SuperjsonCodecOptions } from './codec/superjson.js';
export { createSuperjsonCodec } from './codec/superjson.js';
export type { Codec } from './codec/types.js';
export type { ErrorJSON } from './error-json.js';
export { errorFromJSON, errorToJSON } from './error-json.js';
export type { ErrorCode, StreamId } from './errors.js';
export {
  CorruptRecordError,
  DuplicateIdempotencyIdError,
  EventKvError,
  IdempotencyIdNotFoundError,
  InvalidArgumentError,
  InvalidSessionError,
  isCorruptRecordError,
  isDuplicateIdempotencyIdError,
  isEventKvError,
  isIdempotencyIdNotFoundError,
  isInvalidArgumentError,
  isInvalidSessionError,
  isKvConditionError,
  isNotOpenError,
  isOpenFailedError,
  isSessionExpiredError,
  isSnapshotVersionNotFoundError,
  isStorageBlockedError,
  isStorageError,
  isStorageFullError,
  isStreamLockedError,
  isVersionMismatchError,
  isVersionNotFoundError,
  KvConditionError,
  NotOpenError,
  OpenFailedError,
  SessionExpiredError,
  SnapshotVersionNotFoundError,
  StorageBlockedError,
  StorageError,
  StorageFullError,
  StreamLockedError,
  VersionMismatchError,
  VersionNotFoundError,
} from './errors.js';
export type { IdGenerator } from './ids.js';
export { defaultIdGenerator } from './ids.js';
// The storage contract's types, all of them (`@eventkv/core/kv` exports the same).
export type * from './kv/types.js';
export type { Logger, LogLevel } from './logger.js';
export type { MemoryKvOptions } from './memory/memory-kv.js';
export { createMemoryKv } from './memory/memory-kv.js';
export type { EventStoreOptions } from './options.js';
export type { OwnAppend } from './own-appends.js';
export { OwnAppends } from './own-appends.js';
export type { PreparedPayload } from './payload.js';
export { DEFAULT_PAYLOAD_LIMITS, MAX_PAYLOAD_DEPTH, payloadSize } from './payload.js';
export type { PushAck, PushEvents, PushSlowConsumer } from './push-protocol.js';
export {
  PUSH_BATCH_EVENTS,
  PUSH_BUFFER,
  PUSH_CLOSE_PROTOCOL,
  PUSH_CLOSE_SLOW_CONSUMER,
  PUSH_CLOSE_TOKEN_EXPIRED,
  PUSH_PING,
  PUSH_PONG,
  PUSH_SUBPROTOCOL,
} from './push-protocol.js';
export type { LogPage } from './queries.js';
export type { PageLimits, ReadPage } from './read-page.js';
export { pageEventWeight, readPage } from './read-page.js';
export type { RemoteAppend } from './remote.js';
export {
  checkName,
  checkSnapshotState,
  checkTime,
  prepareRemoteAppend,
  remoteSessionError,
} from './remote.js';
export type { RetryOptions, RetryPolicy, RetryVerdict } from './retry.js';
export {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  resolveRetryPolicy,
  withRetries,
} from './retry.js';
export type { OpenOptions, Session } from './session.js';
export type { SnapshotSource } from './snapshot-every.js';
export { snapshotInChunks } from './snapshot-every.js';
export type { EventStore } from './store.js';
export { createEventStore } from './store.js';
export type { EventStream } from './stream.js';
export type { SubscribeOptions, TailSource, TailTrigger, Unsubscribe } from './subscribe.js';
export { followStream } from './subscribe.js';
export type { CursorSource, WaitSignal } from './subscribe-cursor.js';
export { MAX_BACKOFF_MS } from './subscribe-cursor.js';
export type { LogTailSource, SubscribeLogOptions } from './subscribe-log.js';
export { checkSubscribeLog, followLog } from './subscribe-log.js';
export type {
  AppendOptions,
  AppendResult,
  EventInput,
  EventMetadata,
  EventMetadataInput,
  EventShape,
  ExpectedVersion,
  IndexName,
  LoadResult,
  QueryOptions,
  QueryPage,
  ReadLogOptions,
  ReadOptions,
  RecordedEvent,
  Snapshot,
  StoreCapabilities,
  StreamRef,
} from './types.js';
export { fromWireJson, toWireJson } from './wire-json.js';
export { storedToWire } from './wire-records.js';
