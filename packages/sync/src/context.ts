import type {
  Clock,
  EventInput,
  EventShape,
  IdGenerator,
  Kv,
  RecordedEvent,
  StreamId,
} from '@eventkv/core';
import type { Replica } from '@eventkv/core/replica';
import type { ConflictRecord } from './records.js';
import type { SyncRemote } from './remote.js';

/** An event as a synced store reads it: confirmed by the edge, or still pending here. */
export type SyncedEvent<E extends EventShape = EventShape> = RecordedEvent<E> & {
  /** The edge holds it at this version. Pending events may still move or be discarded. */
  readonly confirmed: boolean;
};

/** A stream whose pending events wait for the app: what it needs to decide. */
export interface Conflict<E extends EventShape = EventShape> {
  readonly ref: StreamId;
  readonly kind: ConflictRecord['kind'];
  readonly detectedAt: number;
  /** The edge's refusal, for `rejected`. */
  readonly error?: ConflictRecord['error'];
  /** The version the pending events were decided on. */
  readonly base: number;
  /** The edge's events after `base`: what the pending events did not know. */
  readonly theirs: RecordedEvent<E>[];
  /** The pending events, numbered from `base + 1`. */
  readonly mine: SyncedEvent<E>[];
  /** The `command` of each pending append, in order (undefined where none was given). */
  readonly commands: unknown[];
}

/**
 * Decides a conflicted stream anew: the events to append instead of the pending ones,
 * given the edge's events (`[]`: none). Called with the stream as it now is.
 */
export type Decider<E extends EventShape = EventShape> = (
  conflict: Conflict<E>,
) => readonly EventInput<E>[] | Promise<readonly EventInput<E>[]>;

/** What the app hears from the engine. */
export type SyncEvent<E extends EventShape = EventShape> =
  | { readonly type: 'conflict'; readonly conflict: Conflict<E> }
  | { readonly type: 'synced'; readonly pushed: number; readonly pulled: number }
  /** Events were appended here (now pending): a scheduler syncs soon after. */
  | { readonly type: 'appended'; readonly ref: StreamId; readonly count: number }
  /** A conflict was settled here: what replaced it (if anything) is pending, to push soon. */
  | { readonly type: 'resolved'; readonly ref: StreamId }
  | { readonly type: 'error'; readonly error: unknown };

/** Settings and state shared by the parts of one synced store. */
export interface SyncContext {
  readonly replica: Replica;
  readonly kv: Kv;
  readonly remote: SyncRemote;
  readonly database: string;
  readonly clock: Clock;
  readonly generateId: IdGenerator;
  readonly scope: 'database' | 'held';
  emit(event: SyncEvent): void;
}

/** The full id of a stream of the synced database. */
export const refIn = (database: string, ref: { type: string; id: string }): StreamId => ({
  database,
  type: ref.type,
  id: ref.id,
});
