import {
  PUSH_BATCH_EVENTS,
  PUSH_BUFFER,
  PUSH_CLOSE_PROTOCOL,
  PUSH_CLOSE_SLOW_CONSUMER,
  PUSH_CLOSE_TOKEN_EXPIRED,
  PUSH_PING,
  PUSH_PONG,
  PUSH_SUBPROTOCOL,
  type RecordedEvent,
  type StreamId,
  toWireJson,
} from '@eventkv/core';
import { armBy } from './expiry.js';

/**
 * Live push sockets (the protocol: `push-protocol.ts` in `@eventkv/core`): the Worker
 * authenticates `GET .../live` and forwards the upgrade to the object that holds the events
 * (the stream's object, or the database's object for the log: the feed under `'stream'`
 * routing), with what to push in the `PUSH_HEADER`. The object accepts the socket with the
 * hibernation API, so an idle subscriber keeps no object in memory, and pushes from storage:
 * after an append (or, in a feed, a delivery) each socket reads what it has not been sent,
 * as far as its buffer allows.
 *
 * Everything a socket's delivery needs (what it follows, what was sent and acknowledged,
 * the unacknowledged batches) is in its attachment, written after each send: an object woken
 * from hibernation, or a new instance after a restart, goes on from there. Nothing is queued
 * in memory: events wait in storage until the buffer has room, so a slow consumer costs no
 * memory, and one that falls a full buffer behind is closed with its last acknowledged point.
 */

/** The header a Worker forwards a push socket's subscription in (`PushSubscription`, JSON). */
export const PUSH_HEADER = 'X-EventKV-Push';

/** The tag push sockets are accepted with (the sync sockets of the same object have none). */
export const PUSH_TAG = 'push';

/** What a push socket follows, from where, and for whom (the Worker verified the token). */
export type PushSubscription = (
  | { readonly kind: 'stream'; readonly ref: StreamId; readonly from: number }
  | { readonly kind: 'log'; readonly database: string; readonly after: number }
) & {
  /** When the token expires (ms since epoch): the socket is closed then, before any send. */
  readonly expiresAt: number;
  /** The most unacknowledged events the client wants (at most `PUSH_BUFFER.maxEvents`). */
  readonly buffer?: number;
};

/** A socket's state, kept in its attachment (at most 2 KiB) across hibernation. */
interface PushState {
  /** Marks a push socket's attachment (a sync socket's is a `LivePrincipal`). */
  readonly push: 'stream' | 'log';
  /** A connection id: one operation of a socket at a time, whatever object wraps it. */
  readonly id: string;
  readonly database: string;
  readonly type?: string;
  readonly streamId?: string;
  readonly expiresAt: number;
  readonly maxEvents: number;
  /** The point (version or position) of the last event sent. */
  sent: number;
  /** The point of the last event the client acknowledged. */
  acked: number;
  /** Caught up once: from then on, falling a full buffer behind drops the client. */
  live: boolean;
  /** Unacknowledged batches, oldest first: [last point, events, bytes]. */
  flight: [number, number, number][];
}

/**
 * The most push sockets one object holds. Each costs a read per append of the object (its
 * events are pushed from storage) and one of the runtime's sockets of the object: past this
 * many, a socket is refused with `503` (the Worker answers `STORAGE_FAILURE`, retryable), and
 * the client backs off or long-polls, whose waits have the same bound (`MAX_WAITS`). Tokens
 * carry no client identity the object could count by, so the bound is per object: per
 * stream under `'stream'` routing, per database for the log (and for every stream under
 * `'database'` routing).
 */
export const MAX_PUSH_SOCKETS = 1000;

/** Most batches an attachment lists; past it the two oldest merge (acknowledged later, never lost). */
const MAX_FLIGHT = 24;

/** The largest message; an event larger than this goes alone. */
const MAX_MESSAGE = 256 * 1024;

/** Whether a socket's attachment is a push socket's. */
export const isPushState = (attachment: unknown): attachment is PushState =>
  typeof attachment === 'object' && attachment !== null && 'push' in attachment;

/** Where a push socket's events come from: the object's store. */
export interface PushSource {
  /** Events of the stream from version `from` on, at most `max`. */
  stream(ref: StreamId, from: number, max: number): Promise<RecordedEvent[]>;
  /** Events of the database's log after `after`, at most `max`. */
  log(database: string, after: number, max: number): Promise<RecordedEvent[]>;
  /** Reports a failed delivery (the socket is closed: its client resumes). */
  failed(error: unknown): void;
}

const isCount = (value: unknown, min: number): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= min;

/** The subscription a Worker forwarded, or a message saying what is wrong with it. */
export const parseSubscription = (raw: string): PushSubscription | string => {
  let value: Partial<Record<string, unknown>>;
  try {
    value = JSON.parse(raw) as Partial<Record<string, unknown>>;
  } catch {
    return `${PUSH_HEADER} is not JSON`;
  }
  if (!isCount(value?.expiresAt, 0)) return `${PUSH_HEADER}.expiresAt must be a time`;
  if (value.buffer !== undefined && !isCount(value.buffer, 1)) {
    return `${PUSH_HEADER}.buffer must be an integer of at least 1`;
  }
  if (value.kind === 'stream' && isCount(value.from, 1)) return value as PushSubscription;
  if (value.kind === 'log' && isCount(value.after, 0)) return value as PushSubscription;
  return `${PUSH_HEADER} must follow a stream from a version or a log after a position`;
};

const sum = (flight: PushState['flight'], at: 1 | 2) =>
  flight.reduce((total, batch) => total + batch[at], 0);

const closeQuietly = (socket: WebSocket, code: number, reason: string) => {
  try {
    socket.close(code, reason);
  } catch {
    // Already closed.
  }
};

/** The push sockets of one object. */
export class LivePush {
  readonly #ctx: DurableObjectState;
  readonly #source: PushSource;
  /** Each connection's operations in order (an ack never races a send). */
  readonly #chains = new Map<string, Promise<void>>();
  /** Connections with a pump queued that has not started: one more is not needed. */
  readonly #queued = new Set<string>();

  constructor(ctx: DurableObjectState, source: PushSource) {
    this.#ctx = ctx;
    this.#source = source;
  }

  /**
   * Accepts a push socket for `subscription` and starts pushing from its point. The object's
   * alarm is armed for its expiry first (`expiry.ts`): an idle socket is closed then too.
   */
  async accept(subscription: PushSubscription): Promise<Response> {
    if (this.#ctx.getWebSockets(PUSH_TAG).length >= MAX_PUSH_SOCKETS) {
      return new Response(
        `the object already holds ${MAX_PUSH_SOCKETS} push sockets; retry later or long-poll`,
        { status: 503 },
      );
    }
    await armBy(this.#ctx.storage, subscription.expiresAt);
    const { 0: client, 1: server } = new WebSocketPair();
    this.#ctx.acceptWebSocket(server, [PUSH_TAG]);
    // Answered by the runtime without waking a hibernated object (the sync sockets' pair too).
    this.#ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PUSH_PING, PUSH_PONG));
    const stream = subscription.kind === 'stream' ? subscription.ref : undefined;
    const state: PushState = {
      push: subscription.kind,
      id: crypto.randomUUID(),
      database: stream?.database ?? (subscription as { database: string }).database,
      ...(stream ? { type: stream.type, streamId: stream.id } : {}),
      expiresAt: subscription.expiresAt,
      maxEvents: Math.min(subscription.buffer ?? PUSH_BUFFER.maxEvents, PUSH_BUFFER.maxEvents),
      sent: subscription.kind === 'stream' ? subscription.from - 1 : subscription.after,
      acked: subscription.kind === 'stream' ? subscription.from - 1 : subscription.after,
      live: false,
      flight: [],
    };
    server.serializeAttachment(state);
    this.#pumpSoon(server, state.id);
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: { 'Sec-WebSocket-Protocol': PUSH_SUBPROTOCOL },
    });
  }

  /** Events were written: every push socket sends what it has room for. */
  changed(): void {
    for (const socket of this.#ctx.getWebSockets(PUSH_TAG)) {
      const state = socket.deserializeAttachment() as unknown;
      if (isPushState(state)) this.#pumpSoon(socket, state.id);
    }
  }

  /** A message from a push socket: an acknowledgement (pings never reach the object). */
  message(socket: WebSocket, message: string | ArrayBuffer): void {
    const id = (socket.deserializeAttachment() as PushState).id;
    this.#run(id, async () => {
      const state = socket.deserializeAttachment() as PushState;
      // An expired token's messages are not taken (its alarm may not have fired yet).
      if (state.expiresAt <= Date.now()) {
        closeQuietly(socket, PUSH_CLOSE_TOKEN_EXPIRED, 'token expired');
        return;
      }
      const to = ackOf(message);
      if (to === undefined || to < state.acked || to > state.sent) {
        closeQuietly(
          socket,
          PUSH_CLOSE_PROTOCOL,
          `a push socket takes '${PUSH_PING}' and acks up to ${state.sent}`,
        );
        return;
      }
      const held = state.flight.length;
      state.acked = to;
      // A batch acknowledged in part stays whole in flight: it is freed by its last point.
      state.flight = state.flight.filter(([last]) => last > to);
      socket.serializeAttachment(state);
      // Only an ack that freed room lets more be sent: one that frees nothing (the same
      // point again, part of a batch) costs no read, however often a client sends it.
      if (state.flight.length < held) this.#pumpSoon(socket, id);
    });
  }

  #run(id: string, op: () => Promise<void>): void {
    const next = (this.#chains.get(id) ?? Promise.resolve()).then(op).catch((error: unknown) => {
      this.#source.failed(error);
    });
    this.#chains.set(id, next);
    void next.finally(() => {
      if (this.#chains.get(id) === next) this.#chains.delete(id);
    });
  }

  #pumpSoon(socket: WebSocket, id: string): void {
    if (this.#queued.has(id)) return;
    this.#queued.add(id);
    this.#run(id, async () => {
      this.#queued.delete(id);
      try {
        await this.#pump(socket);
      } catch (error) {
        // The client reconnects from what it processed and is sent the rest then.
        closeQuietly(socket, 1011, 'the events could not be read; reconnect');
        throw error;
      }
    });
  }

  /** Sends what the socket's buffer has room for, from storage. */
  async #pump(socket: WebSocket): Promise<void> {
    if (socket.readyState !== WebSocket.OPEN) return;
    const state = socket.deserializeAttachment() as PushState;
    if (state.expiresAt <= Date.now()) {
      closeQuietly(socket, PUSH_CLOSE_TOKEN_EXPIRED, 'token expired');
      return;
    }
    for (;;) {
      const heldEvents = sum(state.flight, 1);
      const roomEvents = state.maxEvents - heldEvents;
      const roomBytes = PUSH_BUFFER.maxBytes - sum(state.flight, 2);
      const want = Math.min(PUSH_BATCH_EVENTS, roomEvents);
      const events = want > 0 && roomBytes > 0 ? await this.#read(state, want) : [];
      const parts: string[] = [];
      let bytes = 0;
      for (const event of events) {
        const part = toWireJson(event);
        // The first event goes whatever it weighs when nothing is in flight: a buffer
        // always has room for one event.
        const fits = bytes + part.length <= Math.min(roomBytes, MAX_MESSAGE);
        if (!fits && (parts.length > 0 || heldEvents > 0)) break;
        parts.push(part);
        bytes += part.length;
      }
      if (parts.length === 0) {
        if (events.length === 0 && want > 0 && roomBytes > 0) {
          // Nothing more stored: caught up.
          if (!state.live) {
            state.live = true;
            socket.serializeAttachment(state);
          }
          return;
        }
        // The buffer is full. Replaying, the client is sent more as it acknowledges; once
        // caught up, falling a full buffer behind the head is what a slow consumer does.
        if (state.live && (events.length > 0 || (await this.#read(state, 1)).length > 0)) {
          closeQuietly(socket, PUSH_CLOSE_SLOW_CONSUMER, JSON.stringify({ acked: state.acked }));
        }
        return;
      }
      const message = `{"type":"events","events":[${parts.join(',')}]}`;
      socket.send(message);
      const last = events[parts.length - 1] as RecordedEvent;
      state.sent = (state.push === 'stream' ? last.version : last.position) as number;
      state.flight.push([state.sent, parts.length, message.length]);
      if (state.flight.length > MAX_FLIGHT) {
        const [a, b] = state.flight.splice(0, 2) as [
          PushState['flight'][0],
          PushState['flight'][0],
        ];
        state.flight.unshift([b[0], a[1] + b[1], a[2] + b[2]]);
      }
      socket.serializeAttachment(state);
      if (parts.length === events.length && events.length < want) {
        if (!state.live) {
          state.live = true;
          socket.serializeAttachment(state);
        }
        return;
      }
    }
  }

  #read(state: PushState, max: number): Promise<RecordedEvent[]> {
    if (state.push === 'log') return this.#source.log(state.database, state.sent, max);
    const ref = { database: state.database, type: state.type, id: state.streamId } as StreamId;
    return this.#source.stream(ref, state.sent + 1, max);
  }
}

/** The longest ack read (`{"type":"ack","to":9007199254740991}` and some spaces). */
const MAX_ACK_LENGTH = 128;

/**
 * The point of an ack message (`{"type":"ack","to":N}`), if it is one. Binary frames and
 * text longer than any ack are not parsed: a client cannot make the object parse a
 * megabyte of JSON to learn that it is not an ack.
 */
const ackOf = (message: string | ArrayBuffer): number | undefined => {
  if (typeof message !== 'string' || message.length > MAX_ACK_LENGTH) return undefined;
  try {
    const value = JSON.parse(message) as { type?: unknown; to?: unknown } | null;
    return value?.type === 'ack' && isCount(value.to, 0) ? value.to : undefined;
  } catch {
    return undefined;
  }
};
