import type { IndexName } from './keys.js';

/**
 * The shape every event type has: a string discriminant and an optional payload.
 * A store is generic over a discriminated union of these, e.g.
 * `{ type: 'Deposited'; data: { amount: number } } | { type: 'Closed' }`.
 */
export interface EventShape {
  readonly type: string;
  readonly data?: unknown;
}

/** Metadata a caller may set on an event it appends. */
export interface EventMetadataInput {
  /** Idempotency key, unique within the stream. Generated when omitted. */
  readonly messageId?: string;
  /** Version of the event's payload schema (default 1). */
  readonly schemaVersion?: number;
  readonly userId?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
}

/** Metadata of a recorded event. */
export interface EventMetadata {
  readonly messageId: string;
  readonly schemaVersion: number;
  /** When the event was appended, in milliseconds since the Unix epoch. */
  readonly timestamp: number;
  readonly aggregateType: string;
  readonly aggregateId: string;
  /** The partition (tenant) the stream lives in. */
  readonly database: string;
  readonly userId?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
}

/** An event to append: one member of the union, plus optional metadata. */
export type EventInput<E extends EventShape> = E extends EventShape
  ? E & { readonly metadata?: EventMetadataInput }
  : never;

/**
 * An event as read back. Distributes over the union, so narrowing on `type` narrows
 * `data`. Values read from a non-copying backend (the memory adapter) are deeply frozen.
 */
export type RecordedEvent<E extends EventShape = EventShape> = E extends EventShape
  ? E & {
      /** Sequence number within the stream: 1, 2, 3, ... with no gaps. */
      readonly version: number;
      /** Position in the database's global log; absent when the log is not kept. */
      readonly position?: number;
      readonly metadata: EventMetadata;
    }
  : never;

/**
 * What the stream's version must be for an append to apply: an exact version (0 = the
 * stream has no events), `'no-stream'` (same as 0), `'exists'` (at least one event) or
 * `'any'` (no check).
 */
export type ExpectedVersion = number | 'no-stream' | 'exists' | 'any';

export interface AppendOptions {
  /** Default `'any'`. */
  readonly expectedVersion?: ExpectedVersion;
}

export interface AppendResult {
  /** The stream's version after the append (the version of its last event). */
  readonly version: number;
  /** Version of the first event of this append. */
  readonly firstVersion: number;
  /** Global log position of the last event, when the log is kept. */
  readonly position?: number;
  /** `true` when this was a retry of an append already stored: nothing was written. */
  readonly deduplicated: boolean;
}

export interface ReadOptions {
  /** First version, inclusive (default 1). */
  readonly from?: number;
  /** Last version, inclusive (default: the head). */
  readonly to?: number;
  /** `'backward'` returns newest first. Default `'forward'`. */
  readonly direction?: 'forward' | 'backward';
  /** At most this many events (counted in the direction of reading). */
  readonly limit?: number;
}

export interface Snapshot<S = unknown> {
  /** The stream version the state was computed at. */
  readonly version: number;
  readonly state: S;
  /** When the snapshot was saved, in milliseconds since the Unix epoch. */
  readonly takenAt: number;
}

export interface LoadResult<E extends EventShape, S> {
  /** The latest snapshot, if any. */
  readonly snapshot: Snapshot<S> | undefined;
  /** The events after the snapshot (all events when there is none). */
  readonly events: RecordedEvent<E>[];
  /** The stream's version at the time of reading. */
  readonly version: number;
}

/** Identifies a stream. `database` is the partition (tenant), default `'default'`. */
export interface StreamRef {
  readonly database?: string;
  readonly type: string;
  readonly id: string;
}

export type { IndexName };

/**
 * What a store can do beyond the stream API, so that callers (and the store conformance
 * suite) can tell before they call: the global log (`readLog`) and which secondary indexes
 * `query` serves. A store that answers neither (a Durable Object store with one object per
 * stream) declares `readLog: false, indexes: []`.
 */
export interface StoreCapabilities {
  /** `readLog()` is served. */
  readonly readLog: boolean;
  /** The indexes `query()` serves. */
  readonly indexes: readonly IndexName[];
  /**
   * Where `readLog()` and `query()` read. `'store'` (when absent): the storage the streams
   * are in, so an append's events are there when it returns, in append order, at the
   * positions it reports. `'feed'`: a copy the streams deliver to after their appends (a
   * Durable Object store with one object per stream): positions are the feed's (appends
   * report none and stream reads carry none), the log holds each stream's events in order
   * but streams interleave in delivery order, and a read through a store waits until the
   * feed holds the appends made through that same store (read-your-writes).
   */
  readonly databaseReads?: 'store' | 'feed';
}

export interface QueryOptions {
  readonly database?: string;
  /** Inclusive lower bound on the event timestamp (ms since epoch, or a Date). */
  readonly since?: number | Date;
  /** Exclusive upper bound on the event timestamp (ms since epoch, or a Date). */
  readonly until?: number | Date;
  /** Page size (default 100). */
  readonly limit?: number;
  /** The `cursor` of the previous page. */
  readonly cursor?: string;
}

export interface QueryPage<E extends EventShape> {
  readonly events: RecordedEvent<E>[];
  /** Pass as `cursor` to get the next page; absent on the last page. */
  readonly cursor?: string;
}

export interface ReadLogOptions {
  readonly database?: string;
  /** Return events after this position (exclusive; default 0 = from the start). */
  readonly after?: number;
  /** Page size (default 100). */
  readonly limit?: number;
}
