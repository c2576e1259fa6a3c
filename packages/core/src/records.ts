import { CorruptRecordError } from './errors.js';
import type { EventMetadata } from './types.js';

/**
 * The records core stores, and their checks on the way out: a record that does not
 * have its shape is reported as corrupt, never returned or skipped.
 */

export interface HeadRecord {
  readonly version: number;
  readonly timestamp: number;
}

export interface LeaseRecord {
  readonly sessionId: string;
  readonly expiresAt: number;
  /** The session timeout it was opened with, so a resumed session renews by the same. */
  readonly timeoutMs?: number;
}

export interface LogHeadRecord {
  readonly position: number;
}

export interface EventRecord {
  readonly type: string;
  readonly data?: unknown;
  readonly version: number;
  readonly position?: number;
  readonly metadata: EventMetadata;
}

export interface SnapshotRecord {
  readonly version: number;
  readonly state: unknown;
  readonly takenAt: number;
}

/** Marks a shared record that holds Dates, Maps, Sets or binary data (copy it on read). */
export const MUTABLE_INSIDE: unique symbol = Symbol('eventkv.mutableInside');

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

const corrupt = (key: string, reason: string, version?: number): CorruptRecordError =>
  new CorruptRecordError(key, version, reason);

export const asHead = (key: string, v: unknown): HeadRecord | undefined => {
  if (v === undefined) return undefined;
  if (!isObject(v) || !isCount(v.version) || v.version < 1 || !isCount(v.timestamp)) {
    throw corrupt(key, 'stream head is not { version, timestamp }');
  }
  return v as unknown as HeadRecord;
};

export const asLease = (key: string, v: unknown): LeaseRecord | undefined => {
  if (v === undefined) return undefined;
  if (
    !isObject(v) ||
    typeof v.sessionId !== 'string' ||
    !isCount(v.expiresAt) ||
    (v.timeoutMs !== undefined && !isCount(v.timeoutMs))
  ) {
    throw corrupt(key, 'session lease is not { sessionId, expiresAt, timeoutMs? }');
  }
  return v as unknown as LeaseRecord;
};

export const asLogHead = (key: string, v: unknown): LogHeadRecord | undefined => {
  if (v === undefined) return undefined;
  if (!isObject(v) || !isCount(v.position)) throw corrupt(key, 'log head is not { position }');
  return v as unknown as LogHeadRecord;
};

/**
 * What is wrong with `v` as the event at `version`, or undefined when it is one: the check
 * of `asEvent` without a key, so a read that knows its records' keys only from their
 * versions builds a key for the error alone.
 */
export const eventProblem = (v: unknown, version: number): string | undefined => {
  if (v === undefined) return 'event is missing (the stream has a gap)';
  if (!isObject(v)) return 'event is not an object';
  if (v.version !== version)
    return `event carries version ${String(v.version)} instead of ${version}`;
  const m = v.metadata;
  if (
    typeof v.type !== 'string' ||
    !isObject(m) ||
    typeof m.messageId !== 'string' ||
    !isCount(m.timestamp) ||
    (v.position !== undefined && !isCount(v.position))
  ) {
    return 'event is not { type, version, metadata: { messageId, timestamp, ... } }';
  }
  return undefined;
};

export const asEvent = (key: string, v: unknown, version: number): EventRecord => {
  const problem = eventProblem(v, version);
  if (problem !== undefined) throw corrupt(key, problem, version);
  return v as EventRecord;
};

export const asSnapshot = (key: string, v: unknown, version: number): SnapshotRecord => {
  if (!isObject(v) || v.version !== version || !isCount(v.takenAt) || !('state' in v)) {
    throw corrupt(key, 'snapshot is not { version, state, takenAt }', version);
  }
  return v as unknown as SnapshotRecord;
};
