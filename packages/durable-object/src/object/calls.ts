import type {
  AppendOptions,
  EventInput,
  EventShape,
  IndexName,
  LoadResult,
  OpenOptions,
  QueryOptions,
  ReadLogOptions,
  ReadOptions,
  RecordedEvent,
  StreamRef,
} from '@eventkv/core';
import type { SyncPrincipal } from '@eventkv/sync/edge';
import type { Routing } from '../routing/object-names.js';

/** Names the stream a call is about and, for a call inside a session, the session. */
export interface StreamCall {
  readonly ref: StreamRef;
  /** Set for calls made in a session (from `open`); absent for session-less calls. */
  readonly sessionId?: string;
}

export interface AppendCall<E extends EventShape = EventShape> extends StreamCall {
  readonly events: EventInput<E> | readonly EventInput<E>[];
  readonly options?: AppendOptions;
}

export interface ReadCall extends StreamCall {
  readonly options?: ReadOptions;
  /** A page of the caller's own, weighed as its answers are (`caller-page.ts`); else the object's. */
  readonly page?: PageLimits;
}

/** `readWire`: a page of the caller's own, answered as its wire JSON text (`wire-page.ts`). */
export interface WirePageCall extends StreamCall {
  readonly options?: ReadOptions;
  readonly page: PageLimits;
}

/** A page (`ReadPage`) as the wire JSON text of `{ events, next? }`, and its count of events. */
export interface WirePage {
  readonly text: string;
  readonly events: number;
}

export interface VersionOfCall extends StreamCall {
  readonly messageId: string;
}

export interface SnapshotCall extends StreamCall {
  readonly version: number;
}

export interface SaveSnapshotCall extends SnapshotCall {
  readonly state: unknown;
}

export interface OpenCall {
  readonly ref: StreamRef;
  readonly options?: OpenOptions;
}

export interface SessionCall {
  readonly ref: StreamRef;
  readonly sessionId: string;
}

/** What a caller needs to address a session again: its id and its lease's expiry. */
export interface SessionInfo {
  readonly sessionId: string;
  readonly expiresAt: number;
}

export interface QueryCall {
  readonly index: IndexName;
  readonly value: string;
  readonly options?: QueryOptions;
}

export interface ReadLogCall {
  readonly options?: ReadLogOptions;
}

/**
 * One page of `read`: a result never outgrows what one RPC may carry. `next` holds the
 * read options of the rest of the range, its end pinned on the first page so that the
 * pages make one consistent range; it is absent on the last page.
 */
export interface ReadPage<E extends EventShape = EventShape> {
  readonly events: RecordedEvent<E>[];
  readonly next?: ReadOptions;
}

/**
 * `load` in pages: the latest snapshot, the stream's version, and the first page of the
 * events after the snapshot; `next` reads the rest (up to `version`) with `read`.
 */
export interface LoadPage<E extends EventShape = EventShape, S = unknown> extends LoadResult<E, S> {
  readonly next?: ReadOptions;
}

/** How large one page may grow: events, and bytes of events (about what they weigh in storage). */
export interface PageLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
}

/**
 * A sync message for the database's object (`syncPush`, `syncPull`, `syncWait`): the
 * principal the caller verified (from the token, never from the message) and the message
 * as received (a `PushRequest`, `PullRequest` or `WaitRequest` of `@eventkv/sync`), which
 * the edge checks.
 */
export interface SyncCall {
  readonly principal: SyncPrincipal;
  readonly request: unknown;
  /**
   * Where the database's streams live (default `'database'`: in this object). Under
   * `'stream'` this object is the database's feed: pushes append in the stream objects.
   */
  readonly routing?: Routing;
}

/**
 * A stream object's delivery to its database's feed (under `'stream'` routing): a batch of
 * the stream's events, in version order, as the stream holds them.
 */
export interface FeedDeliverCall {
  readonly ref: StreamRef;
  readonly events: readonly RecordedEvent[];
}

/** What the feed holds of the stream after a delivery: delivery goes on from there. */
export interface FeedDeliverResult {
  readonly version: number;
}

/** The longest a database-wide read waits for the feed to hold the caller's own appends. */
export const MAX_FEED_WAIT_MS = 10_000;

/** Read-your-writes: waits (up to `timeoutMs`) until the feed holds each stream at its version. */
export interface FeedWaitCall {
  readonly streams: readonly { readonly ref: StreamRef; readonly version: number }[];
  readonly timeoutMs: number;
}
