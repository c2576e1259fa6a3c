import type { EventShape, RecordedEvent } from './types.js';

/**
 * The live push protocol: a WebSocket over which a server pushes the events of one stream
 * (`GET /v1/{database}/streams/{type}/{id}/live?from=V`) or of a database's global log
 * (`GET /v1/{database}/log/live?after=P`), from the point asked for, then as they are
 * written. Shared by the server (the Durable Object that holds the events) and the clients
 * (`@eventkv/client`), so both read the same constants; it lives in core because core is
 * the one package both depend on.
 *
 * - The client offers the subprotocols `PUSH_SUBPROTOCOL` and `bearer.<token>` (a browser
 *   cannot set headers on a WebSocket); the server accepts `PUSH_SUBPROTOCOL`.
 * - The server sends `PushEvents` messages (wire JSON, as the HTTP API's bodies): batches
 *   of events in order, each event once, starting at the point asked for.
 * - The client sends a `PushAck` once it has processed a batch: the version (stream) or
 *   position (log) of the last event it processed.
 * - Each connection has a buffer: at most `maxEvents` events and `maxBytes` bytes (of the
 *   messages, in UTF-16 code units, about their bytes) sent and not acknowledged. While the
 *   server replays what was stored before the client caught up, a full buffer only makes it
 *   wait for acknowledgements. Once caught up, a client that falls a full buffer behind is
 *   dropped: closed with `PUSH_CLOSE_SLOW_CONSUMER` and a reason `{"acked":N}` naming the
 *   last point it acknowledged. It reconnects from the last point it processed, which
 *   replays the rest at its own pace: nothing skipped, nothing repeated.
 * - `PUSH_PING` is answered `PUSH_PONG` (by the runtime, without waking a hibernated
 *   object). A socket whose token has expired is closed with `PUSH_CLOSE_TOKEN_EXPIRED`
 *   at its expiry, idle or not, and never sent anything after it: reconnect with a fresh
 *   token.
 * - A client message that is neither a ping nor a valid ack (a binary frame, text longer
 *   than an ack, an ack of a point not sent or before one acknowledged) closes the socket
 *   with `PUSH_CLOSE_PROTOCOL`.
 */
export const PUSH_SUBPROTOCOL = 'eventkv-push.1';

/** Sent by the client to learn that the connection is alive; answered `PUSH_PONG`. */
export const PUSH_PING = 'ping';
export const PUSH_PONG = 'pong';

/** Close code: the token expired; reconnect (with a fresh token) from the last point processed. */
export const PUSH_CLOSE_TOKEN_EXPIRED = 4001;
/** Close code: the client fell a full buffer behind; the reason is `{"acked":N}`. */
export const PUSH_CLOSE_SLOW_CONSUMER = 4002;
/** Close code: the client sent a message the protocol has no place for. */
export const PUSH_CLOSE_PROTOCOL = 1003;

/** The default (and largest) buffer of a connection. A client may ask for a smaller `buffer`. */
export const PUSH_BUFFER = Object.freeze({ maxEvents: 1000, maxBytes: 1024 * 1024 });

/** Most events in one `PushEvents` message. */
export const PUSH_BATCH_EVENTS = 100;

/** A batch of events, server to client. */
export interface PushEvents<E extends EventShape = EventShape> {
  readonly type: 'events';
  /** In order: versions of the stream, or positions of the log, each after the last sent. */
  readonly events: RecordedEvent<E>[];
}

/** Client to server: the point (version or position) of the last event processed. */
export interface PushAck {
  readonly type: 'ack';
  readonly to: number;
}

/** The reason of a `PUSH_CLOSE_SLOW_CONSUMER` close. */
export interface PushSlowConsumer {
  readonly acked: number;
}
