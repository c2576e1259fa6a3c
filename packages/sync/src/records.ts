import type { ErrorJSON, EventInput, EventShape, StreamId } from '@eventkv/core';
import type { PushEntry, SyncCursor } from './protocol.js';

/** Who this replica is to the edge, and where it is in the edge's log. */
export interface MetaRecord {
  readonly clientId: string;
  readonly epoch: number;
  /** The last seq used in this epoch (0: none yet). */
  readonly seq: number;
  readonly cursor?: SyncCursor;
}

/** The push being sent, kept until its answer is handled (a crash re-sends it as it is). */
export interface InflightRecord {
  readonly epoch: number;
  readonly seq: number;
  readonly entries: readonly PushEntry[];
  /** The outbox entries each push entry carries, in the same order. */
  readonly covers: readonly { readonly ref: StreamId; readonly numbers: readonly number[] }[];
}

/** One pending append, as the app made it. */
export interface OutboxEntry {
  readonly ref: StreamId;
  readonly n: number;
  /** The first version it takes, if the edge agrees (the stream's version + 1 when appended). */
  readonly from: number;
  /** Each with its message id. */
  readonly events: readonly EventInput<EventShape>[];
  /** When it was appended here (ms since epoch). */
  readonly appendedAt: number;
  /** What the app passed as `command`, for a decider that re-decides it after a conflict. */
  readonly command?: unknown;
}

/** Why a stream's pending events wait for the app. */
export interface ConflictRecord {
  /**
   * `conflict`: the edge's stream moved past the version they were decided on;
   * `rejected`: the edge refused them for good; `diverged`: the edge's history differs
   * from the copy here (its data was replaced).
   */
  readonly kind: 'conflict' | 'rejected' | 'diverged';
  readonly detectedAt: number;
  readonly error?: ErrorJSON;
}

/**
 * A stream with pending events (or a conflict): the record appends are checked against.
 * Every commit that changes the stream's outbox writes it too, with the counts below, so
 * `status()` and `pendingStreams()` read the states and never the outbox.
 */
export interface StreamState {
  readonly ref: StreamId;
  /** The number of the next outbox entry. */
  readonly next: number;
  /**
   * The pending events in the outbox. Absent in states written before it was kept: then
   * unknown, counted from the outbox (and stored with the next write of the state).
   */
  readonly pending?: number;
  /** When the oldest pending entry was appended (ms since epoch); absent when none is. */
  readonly since?: number;
  readonly conflict?: ConflictRecord;
  /** A passing refusal (a session holds the stream at the edge): not before this time. */
  readonly deferredUntil?: number;
}

export interface StatusRecord {
  readonly lastSuccessAt?: number;
  readonly lastError?: { readonly at: number; readonly message: string; readonly code?: string };
}
