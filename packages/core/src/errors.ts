/**
 * Every failure eventkv reports is an `EventKvError` with a stable string `code`, the
 * context of the failure as fields, an actionable message and, when a backend failed,
 * the backend's error as `cause`. Match on `code` (or the `isXxx` guards), not on
 * `instanceof`: errors cross realms, workers and the HTTP wire.
 */

export type ErrorCode =
  | 'VERSION_MISMATCH'
  | 'NOT_OPEN'
  | 'SESSION_EXPIRED'
  | 'INVALID_SESSION'
  | 'OPEN_FAILED'
  | 'STREAM_LOCKED'
  | 'VERSION_NOT_FOUND'
  | 'SNAPSHOT_VERSION_NOT_FOUND'
  | 'IDEMPOTENCY_ID_NOT_FOUND'
  | 'DUPLICATE_IDEMPOTENCY_ID'
  | 'CORRUPT_RECORD'
  | 'INVALID_ARGUMENT'
  | 'STORAGE_FAILURE'
  | 'STORAGE_FULL'
  | 'STORAGE_BLOCKED'
  | 'KV_CONDITION_FAILED';

/** Identifies a stream in messages and error fields. */
export interface StreamId {
  readonly database: string;
  readonly type: string;
  readonly id: string;
}

export const describeStream = (s: StreamId): string =>
  `${s.type}/${s.id}${s.database === 'default' ? '' : ` (database '${s.database}')`}`;

export abstract class EventKvError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The stream's version is not what the append expected. Reload, re-decide, retry. */
export class VersionMismatchError extends EventKvError {
  readonly code = 'VERSION_MISMATCH' as const;
  constructor(
    readonly stream: StreamId,
    readonly expected: number | 'no-stream' | 'exists',
    readonly actual: number,
  ) {
    super(
      `Version mismatch on stream ${describeStream(stream)}: expected ${expected}, actual ${actual}. ` +
        'Another writer appended first; reload the stream, re-apply your decision and retry.',
    );
  }
}

/** An operation on a session that was closed (or never opened). */
export class NotOpenError extends EventKvError {
  readonly code = 'NOT_OPEN' as const;
  constructor(
    readonly stream: StreamId,
    readonly sessionId: string,
  ) {
    super(
      `Session ${sessionId} on stream ${describeStream(stream)} is closed. Open a new session with store.open().`,
    );
  }
}

/** The session outlived its timeout; its lease may already belong to another writer. */
export class SessionExpiredError extends EventKvError {
  readonly code = 'SESSION_EXPIRED' as const;
  constructor(
    readonly stream: StreamId,
    readonly sessionId: string,
    readonly expiredAt: number,
  ) {
    super(
      `Session ${sessionId} on stream ${describeStream(stream)} expired at ${new Date(expiredAt).toISOString()}. ` +
        'Nothing was written; open a new session (or renew() before the timeout) and retry.',
    );
  }
}

/** The lease no longer belongs to this session (another session took it over). */
export class InvalidSessionError extends EventKvError {
  readonly code = 'INVALID_SESSION' as const;
  constructor(
    readonly stream: StreamId,
    readonly sessionId: string,
    readonly holder: string | undefined,
  ) {
    super(
      `Session ${sessionId} no longer holds the lease on stream ${describeStream(stream)}` +
        `${holder ? ` (now held by session ${holder})` : ''}. Nothing was written; open a new session and retry.`,
    );
  }
}

/** `open()` could not take the stream's lease within its open timeout. */
export class OpenFailedError extends EventKvError {
  readonly code = 'OPEN_FAILED' as const;
  constructor(
    readonly stream: StreamId,
    readonly openTimeoutMs: number,
    readonly lockedUntil: number,
    readonly holder: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Could not open stream ${describeStream(stream)}: it is locked by session ${holder} until ` +
        `${new Date(lockedUntil).toISOString()} (open timeout ${openTimeoutMs} ms). ` +
        'Retry later, raise openTimeoutMs, or have the holder close its session.',
      options,
    );
  }
}

/** A write without a session hit a stream that a live session holds exclusively. */
export class StreamLockedError extends EventKvError {
  readonly code = 'STREAM_LOCKED' as const;
  constructor(
    readonly stream: StreamId,
    readonly lockedUntil: number,
  ) {
    super(
      `Stream ${describeStream(stream)} is locked by a session until ${new Date(lockedUntil).toISOString()}. ` +
        'Nothing was written; write through that session, or retry after it closes or expires.',
    );
  }
}

/** A version beyond the stream's head was named (e.g. a snapshot at a future version). */
export class VersionNotFoundError extends EventKvError {
  readonly code = 'VERSION_NOT_FOUND' as const;
  constructor(
    readonly stream: StreamId,
    readonly version: number,
    readonly currentVersion: number,
  ) {
    super(
      `Stream ${describeStream(stream)} has no version ${version} (current version ${currentVersion}). ` +
        'Use a version between 1 and the current version.',
    );
  }
}

export class SnapshotVersionNotFoundError extends EventKvError {
  readonly code = 'SNAPSHOT_VERSION_NOT_FOUND' as const;
  constructor(
    readonly stream: StreamId,
    readonly version: number,
  ) {
    super(
      `Stream ${describeStream(stream)} has no snapshot at version ${version}. ` +
        'List the existing ones with snapshotVersions() or use latestSnapshot().',
    );
  }
}

export class IdempotencyIdNotFoundError extends EventKvError {
  readonly code = 'IDEMPOTENCY_ID_NOT_FOUND' as const;
  constructor(
    readonly stream: StreamId,
    readonly messageId: string,
  ) {
    super(
      `No event with message id '${messageId}' was appended to stream ${describeStream(stream)}.`,
    );
  }
}

/** A message id already names a different event (another position) in the stream. */
export class DuplicateIdempotencyIdError extends EventKvError {
  readonly code = 'DUPLICATE_IDEMPOTENCY_ID' as const;
  constructor(
    readonly stream: StreamId,
    readonly messageId: string,
    readonly existingVersion: number,
  ) {
    super(
      `Message id '${messageId}' is already used by version ${existingVersion} of stream ${describeStream(stream)}, ` +
        'and this append is not an exact retry of it. Nothing was written; give new events new message ids.',
    );
  }
}

/** A stored record does not decode or breaks an invariant. It is never returned or skipped. */
export class CorruptRecordError extends EventKvError {
  readonly code = 'CORRUPT_RECORD' as const;
  constructor(
    readonly key: string,
    readonly version: number | undefined,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Corrupt record at key '${key}'${version === undefined ? '' : ` (version ${version})`}: ${reason}. ` +
        'The data was written by something other than eventkv or damaged; restore it from a backup.',
      options,
    );
  }
}

/** Bad input, detected before anything was written. `field` names the offending input. */
export class InvalidArgumentError extends EventKvError {
  readonly code = 'INVALID_ARGUMENT' as const;
  constructor(
    readonly field: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Invalid ${field}: ${reason}.`, options);
  }
}

/** The backend failed. The append or change it belonged to was not acknowledged. */
export class StorageError extends EventKvError {
  readonly code = 'STORAGE_FAILURE' as const;
  constructor(
    readonly operation: string,
    options: { cause?: unknown; detail?: string } = {},
  ) {
    const cause = options.cause as { message?: unknown } | undefined;
    const why =
      options.detail ?? (typeof cause?.message === 'string' ? cause.message : 'unknown error');
    super(
      `Storage failed during ${operation}: ${why}. The operation was not acknowledged; it is safe to retry ` +
        '(appends with the same message ids are idempotent).',
      { cause: options.cause },
    );
  }
}

/**
 * The backend refused a write for lack of space (a browser's storage quota, a database size
 * limit). Nothing of the write was applied; what is stored is still readable.
 */
export class StorageFullError extends EventKvError {
  readonly code = 'STORAGE_FULL' as const;
  constructor(
    readonly operation: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      `Storage is full: ${operation} was refused and nothing of it was written. ` +
        'Free space (delete old snapshots or data), ask the browser for persistent storage ' +
        '(navigator.storage.persist()), then retry.',
      options,
    );
  }
}

/**
 * The backend database could not be opened because another connection would not let go of
 * it (in a browser: another tab keeps an older version of the database open).
 */
export class StorageBlockedError extends EventKvError {
  readonly code = 'STORAGE_BLOCKED' as const;
  constructor(
    /** The backend's database name (e.g. the IndexedDB database). */
    readonly database: string,
    readonly waitedMs: number,
    options: { cause?: unknown } = {},
  ) {
    super(
      `Opening storage '${database}' was blocked for ${waitedMs} ms by another connection ` +
        'holding an older version open. Close or reload the other tabs of this app, then retry.',
      options,
    );
  }
}

/**
 * Thrown by a KV adapter's `commit` when a check does not hold. Core translates it into a
 * domain error; users should never see it.
 */
export class KvConditionError extends EventKvError {
  readonly code = 'KV_CONDITION_FAILED' as const;
  constructor(readonly keys: readonly string[]) {
    super(`KV commit condition failed on ${keys.join(', ')}; nothing was applied.`);
  }
}

/**
 * An error from any realm (an iframe, a worker, a vm context: `instanceof Error` fails
 * there) or an error rebuilt as plain data with a message.
 */
const isErrorLike = (error: object): boolean =>
  Object.prototype.toString.call(error) === '[object Error]' ||
  typeof (error as { message?: unknown }).message === 'string';

const guard =
  <T extends EventKvError>(code: T['code']) =>
  (error: unknown): error is T =>
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === code &&
    isErrorLike(error);

const CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'VERSION_MISMATCH',
  'NOT_OPEN',
  'SESSION_EXPIRED',
  'INVALID_SESSION',
  'OPEN_FAILED',
  'STREAM_LOCKED',
  'VERSION_NOT_FOUND',
  'SNAPSHOT_VERSION_NOT_FOUND',
  'IDEMPOTENCY_ID_NOT_FOUND',
  'DUPLICATE_IDEMPOTENCY_ID',
  'CORRUPT_RECORD',
  'INVALID_ARGUMENT',
  'STORAGE_FAILURE',
  'STORAGE_FULL',
  'STORAGE_BLOCKED',
  'KV_CONDITION_FAILED',
]);

/** An eventkv error: one of the codes above (a backend's `ENOENT` or `QuotaExceededError` is not). */
export const isEventKvError = (error: unknown): error is EventKvError =>
  error instanceof EventKvError ||
  (typeof error === 'object' &&
    error !== null &&
    CODES.has((error as { code?: unknown }).code as string) &&
    isErrorLike(error));
export const isVersionMismatchError = guard<VersionMismatchError>('VERSION_MISMATCH');
export const isNotOpenError = guard<NotOpenError>('NOT_OPEN');
export const isSessionExpiredError = guard<SessionExpiredError>('SESSION_EXPIRED');
export const isInvalidSessionError = guard<InvalidSessionError>('INVALID_SESSION');
export const isOpenFailedError = guard<OpenFailedError>('OPEN_FAILED');
export const isStreamLockedError = guard<StreamLockedError>('STREAM_LOCKED');
export const isVersionNotFoundError = guard<VersionNotFoundError>('VERSION_NOT_FOUND');
export const isSnapshotVersionNotFoundError = guard<SnapshotVersionNotFoundError>(
  'SNAPSHOT_VERSION_NOT_FOUND',
);
export const isIdempotencyIdNotFoundError = guard<IdempotencyIdNotFoundError>(
  'IDEMPOTENCY_ID_NOT_FOUND',
);
export const isDuplicateIdempotencyIdError = guard<DuplicateIdempotencyIdError>(
  'DUPLICATE_IDEMPOTENCY_ID',
);
export const isCorruptRecordError = guard<CorruptRecordError>('CORRUPT_RECORD');
export const isInvalidArgumentError = guard<InvalidArgumentError>('INVALID_ARGUMENT');
export const isStorageError = guard<StorageError>('STORAGE_FAILURE');
export const isStorageFullError = guard<StorageFullError>('STORAGE_FULL');
export const isStorageBlockedError = guard<StorageBlockedError>('STORAGE_BLOCKED');
export const isKvConditionError = guard<KvConditionError>('KV_CONDITION_FAILED');
