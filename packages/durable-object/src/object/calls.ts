import type {
  AppendOptions,
  EventInput,
  EventShape,
  IndexName,
  OpenOptions,
  QueryOptions,
  ReadLogOptions,
  ReadOptions,
  StreamRef,
} from '@eventkv/core';

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
