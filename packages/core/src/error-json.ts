import {
  CorruptRecordError,
  DuplicateIdempotencyIdError,
  type ErrorCode,
  type EventKvError,
  IdempotencyIdNotFoundError,
  InvalidArgumentError,
  InvalidSessionError,
  isEventKvError,
  KvConditionError,
  NotOpenError,
  OpenFailedError,
  SessionExpiredError,
  SnapshotVersionNotFoundError,
  StorageBlockedError,
  StorageError,
  StorageFullError,
  type StreamId,
  StreamLockedError,
  VersionMismatchError,
  VersionNotFoundError,
} from './errors.js';

/**
 * The plain-data form of an eventkv error: its `code`, its `message` and its context fields
 * (`stream`, `expected`, `actual`, ...). Safe to send over RPC, `postMessage` or HTTP.
 */
export interface ErrorJSON {
  readonly code: ErrorCode;
  readonly message: string;
  readonly [field: string]: unknown;
}

type Fields = Readonly<Record<string, unknown>>;
// The wire is our own: fields are taken as the sending side's error class wrote them.
const s = (f: Fields): StreamId => f.stream as StreamId;
const n = (v: unknown) => v as number;
const t = (v: unknown) => v as string;

const rebuild: Record<ErrorCode, (f: Fields) => EventKvError> = {
  VERSION_MISMATCH: (f) =>
    new VersionMismatchError(s(f), f.expected as VersionMismatchError['expected'], n(f.actual)),
  NOT_OPEN: (f) => new NotOpenError(s(f), t(f.sessionId)),
  SESSION_EXPIRED: (f) => new SessionExpiredError(s(f), t(f.sessionId), n(f.expiredAt)),
  INVALID_SESSION: (f) =>
    new InvalidSessionError(s(f), t(f.sessionId), f.holder as string | undefined),
  OPEN_FAILED: (f) => new OpenFailedError(s(f), n(f.openTimeoutMs), n(f.lockedUntil), t(f.holder)),
  STREAM_LOCKED: (f) => new StreamLockedError(s(f), n(f.lockedUntil)),
  VERSION_NOT_FOUND: (f) => new VersionNotFoundError(s(f), n(f.version), n(f.currentVersion)),
  SNAPSHOT_VERSION_NOT_FOUND: (f) => new SnapshotVersionNotFoundError(s(f), n(f.version)),
  IDEMPOTENCY_ID_NOT_FOUND: (f) => new IdempotencyIdNotFoundError(s(f), t(f.messageId)),
  DUPLICATE_IDEMPOTENCY_ID: (f) =>
    new DuplicateIdempotencyIdError(s(f), t(f.messageId), n(f.existingVersion)),
  CORRUPT_RECORD: (f) =>
    new CorruptRecordError(t(f.key), f.version as number | undefined, t(f.reason)),
  INVALID_ARGUMENT: (f) => new InvalidArgumentError(t(f.field), t(f.reason)),
  STORAGE_FAILURE: (f) => new StorageError(t(f.operation)),
  STORAGE_FULL: (f) => new StorageFullError(t(f.operation)),
  STORAGE_BLOCKED: (f) => new StorageBlockedError(t(f.database), n(f.waitedMs)),
  KV_CONDITION_FAILED: (f) => new KvConditionError(f.keys as string[]),
};

const OMIT = new Set(['name', 'message', 'stack', 'cause', 'code']);

/**
 * The plain-data form of an error, for sending it across RPC or HTTP. An error that is
 * not an eventkv error (a backend's own) becomes a `STORAGE_FAILURE` of `operation`, with
 * the original message. The `cause` is not carried: it may not be serializable.
 * @example
 * return Response.json({ error: errorToJSON(err) }, { status: 409 });
 */
export const errorToJSON = (error: unknown, operation = 'remote call'): ErrorJSON => {
  const known = isEventKvError(error) ? error : new StorageError(operation, { cause: error });
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(known)) {
    if (!OMIT.has(key)) fields[key] = value;
  }
  return { ...fields, code: known.code, message: known.message };
};

/**
 * Rebuilds the error class an `ErrorJSON` came from, with its fields and message, so
 * `isVersionMismatchError(err)` and `err.actual` work on the receiving side. Anything that
 * is not an `ErrorJSON` becomes a `StorageError` of `operation`.
 * @example
 * if (!res.ok) throw errorFromJSON((await res.json()).error);
 */
export const errorFromJSON = (json: unknown, operation = 'remote call'): EventKvError => {
  const data = (typeof json === 'object' && json !== null ? json : {}) as Fields;
  const code = data.code;
  const message = typeof data.message === 'string' ? data.message : undefined;
  const build =
    typeof code === 'string' && Object.hasOwn(rebuild, code)
      ? rebuild[code as ErrorCode]
      : undefined;
  if (!build) {
    return new StorageError(operation, {
      detail: message ?? `unrecognised error ${JSON.stringify(json) ?? String(json)}`,
    });
  }
  const error = build(data);
  // The sender's message may carry detail the fields do not (a backend's own message).
  if (message !== undefined) error.message = message;
  return error;
};
