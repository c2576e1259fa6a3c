import type { ErrorJSON, EventInput, EventShape, RecordedEvent } from '@eventkv/core';

/**
 * The sync protocol between a replica (a local store, e.g. a browser's IndexedDB) and the
 * edge (the store of one database, e.g. its Durable Object). Version 1. Messages travel
 * as wire JSON (`toWireJson` in `@eventkv/core`) over `POST /v1/{database}/sync/push` and
 * `POST /v1/{database}/sync/pull`; the database and the user come from the verified token,
 * never from a message. PROTOCOL.md beside this file explains the rules.
 */
export const SYNC_PROTOCOL = 1;

/** A stream of the token's database. */
export interface StreamKey {
  readonly type: string;
  readonly id: string;
}

/** Where a replica is in the edge's log: the edge's identity and a log position. */
export interface SyncCursor {
  /** Changes when the edge's data is replaced (a reset database): a cursor of another id is void. */
  readonly serverId: string;
  /** The last log position the replica has pulled (0: nothing yet). */
  readonly position: number;
}

/** One stream's pending events, decided on `expectedVersion` of the edge's stream. */
export interface PushEntry {
  readonly stream: StreamKey;
  /** The version of the stream the events were decided on (what the replica had confirmed). */
  readonly expectedVersion: number;
  /** Every event carries its message id (`metadata.messageId`): a retry is an exact retry. */
  readonly events: readonly EventInput<EventShape>[];
}

/** Most entries one push may carry (one per stream). */
export const MAX_PUSH_ENTRIES = 100;

export interface PushRequest {
  readonly protocol: typeof SYNC_PROTOCOL;
  /** The replica: one id per local database, bound to the first user who pushes with it. */
  readonly clientId: string;
  /** Changes when the replica's sequence starts over (a reset or restored database). */
  readonly epoch: number;
  /** 1, 2, 3... per epoch: each push is one number, a retry repeats it. */
  readonly seq: number;
  /** At most `MAX_PUSH_ENTRIES`, each stream at most once. */
  readonly entries: readonly PushEntry[];
}

/**
 * What became of one entry. `accepted` and `duplicate` carry the events as the edge
 * recorded them (versions, timestamps, positions); `conflict` the edge's events after the
 * expected version (the ones the replica has not seen), a page of them; `rejected` a
 * permanent refusal (the entry will never be accepted as it is); `deferred` a passing one
 * (a session holds the stream at the edge): push it again later.
 */
export type StreamResult =
  | {
      readonly status: 'accepted' | 'duplicate';
      readonly stream: StreamKey;
      readonly events: readonly RecordedEvent[];
    }
  | {
      readonly status: 'conflict';
      readonly stream: StreamKey;
      readonly expected: number;
      readonly actual: number;
      readonly events: readonly RecordedEvent[];
      /** More of the edge's events follow `events` (pull them). */
      readonly more: boolean;
    }
  | {
      readonly status: 'rejected' | 'deferred';
      readonly stream: StreamKey;
      readonly error: ErrorJSON;
    };

/**
 * The answer to a push:
 * - `applied`: every entry has its result (`replayed` when this seq was applied before and
 *   its stored results are returned);
 * - `fenced`: the (epoch, seq) is stale: another push with this seq and other entries was
 *   applied, or a later epoch or seq exists. Nothing was applied; start a new epoch above
 *   `epoch` at seq 1 and push again (message ids keep that from appending twice);
 * - `gap`: the seq skips numbers the edge has not seen; push again as `expectedSeq`.
 */
export type PushResponse =
  | {
      readonly protocol: typeof SYNC_PROTOCOL;
      readonly outcome: 'applied';
      readonly serverId: string;
      readonly seq: number;
      readonly replayed: boolean;
      readonly results: readonly StreamResult[];
    }
  | {
      readonly protocol: typeof SYNC_PROTOCOL;
      readonly outcome: 'fenced';
      readonly serverId: string;
      readonly epoch: number;
      readonly seq: number;
    }
  | {
      readonly protocol: typeof SYNC_PROTOCOL;
      readonly outcome: 'gap';
      readonly serverId: string;
      readonly expectedSeq: number;
    };

/** Most events one pull page may carry. */
export const MAX_PULL_LIMIT = 1000;

export interface PullRequest {
  readonly protocol: typeof SYNC_PROTOCOL;
  /** Omitted on the first pull. */
  readonly cursor?: SyncCursor;
  /** Events per page, at most `MAX_PULL_LIMIT` (default 500). */
  readonly limit?: number;
  /** Only these streams' events (at most 1000); omitted: the whole database. */
  readonly streams?: readonly StreamKey[];
}

/**
 * A page of the edge's log after the cursor (`more` when the page was full: pull again
 * from `cursor`), or a reset: the cursor is void (the edge's data was replaced, or the
 * position is past what it holds). A reset's `cursor` starts from the beginning; a
 * replica persists it before anything else, so a reset is answered once, never in a loop.
 */
export type PullResponse =
  | {
      readonly protocol: typeof SYNC_PROTOCOL;
      readonly serverId: string;
      readonly events: readonly RecordedEvent[];
      readonly cursor: SyncCursor;
      readonly more: boolean;
    }
  | {
      readonly protocol: typeof SYNC_PROTOCOL;
      readonly serverId: string;
      readonly reset: 'server-changed' | 'past-end';
      readonly cursor: SyncCursor;
    };

/** Who is syncing, as the edge's host verified it (from the token, never from a message). */
export interface SyncPrincipal {
  readonly database: string;
  /** The user a client id is bound to. */
  readonly user: string;
}

/** The longest a long-poll (`WaitRequest`) is held open, and its default. */
export const MAX_WAIT_MS = 25_000;
export const DEFAULT_WAIT_MS = 20_000;

/**
 * A long-poll, for replicas that cannot hold a WebSocket: answered as soon as the edge's
 * log holds events after `cursor` (at once if it already does, or if the cursor is of
 * another `serverId`), else after `timeoutMs` (at most `MAX_WAIT_MS`) with `changed: false`.
 */
export interface WaitRequest {
  readonly protocol: typeof SYNC_PROTOCOL;
  /** The replica's cursor (omitted: answered at once). */
  readonly cursor?: SyncCursor;
  readonly timeoutMs?: number;
}

export interface WaitResponse {
  readonly protocol: typeof SYNC_PROTOCOL;
  readonly serverId: string;
  /** The edge has events the cursor has not pulled: pull now. */
  readonly changed: boolean;
}

/**
 * The live socket (`GET /v1/{database}/sync/live`, a WebSocket): the client offers the
 * subprotocols `LIVE_SUBPROTOCOL` and `bearer.<token>` (a browser cannot set a header on
 * a WebSocket); the edge accepts `LIVE_SUBPROTOCOL`. The edge sends `POKE` right after
 * the socket opens (so a reconnect misses nothing: the replica pulls) and whenever the
 * database's log grows; a poke carries no data, only "pull now". The client may send
 * `PING` at any time and is answered `PONG` (without waking a hibernated object); an edge
 * closes with `LIVE_CLOSE_TOKEN_EXPIRED` when the token has expired (reconnect with a
 * fresh one).
 */
export const LIVE_SUBPROTOCOL = 'eventkv-sync.1';
export const LIVE_TOKEN_PREFIX = 'bearer.';
export const POKE = '{"type":"poke"}';
export const PING = 'ping';
export const PONG = 'pong';
export const LIVE_CLOSE_TOKEN_EXPIRED = 4001;
