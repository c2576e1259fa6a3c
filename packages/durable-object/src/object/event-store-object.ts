import { DurableObject } from 'cloudflare:workers';
import {
  type AppendResult,
  checkName,
  type EventShape,
  type EventStore,
  type EventStoreOptions,
  type EventStream,
  InvalidArgumentError,
  isInvalidSessionError,
  isNotOpenError,
  isSessionExpiredError,
  isVersionMismatchError,
  type LogPage,
  type QueryPage,
  type ReadOptions,
  readPage as readPageOf,
  type Snapshot,
  type StreamId,
  type StreamRef,
} from '@eventkv/core';
import { charBytes } from '@eventkv/core/kv';
import { createReplica, type Replica } from '@eventkv/core/replica';
import {
  type EdgeChange,
  LIVE_CLOSE_TOKEN_EXPIRED,
  LIVE_SUBPROTOCOL,
  PING,
  POKE,
  PONG,
  type PullResponse,
  type PushResponse,
  type SyncPrincipal,
  type WaitResponse,
} from '@eventkv/sync/edge';
import type { EventStoreObjectNamespace } from '../client/object-caller.js';
import { createDurableObjectKv } from '../kv/durable-object-kv.js';
import { databaseObjectName, streamObjectName, toStreamId } from '../routing/object-names.js';
import { type RpcResult, settle, unwrapResult } from '../rpc/result.js';
import { readCallerPage } from './caller-page.js';
import {
  type AppendCall,
  type FeedDeliverCall,
  type FeedDeliverResult,
  type FeedWaitCall,
  type LoadPage,
  MAX_FEED_WAIT_MS,
  type OpenCall,
  type PageLimits,
  type QueryCall,
  type ReadCall,
  type ReadLogCall,
  type ReadPage,
  type SaveSnapshotCall,
  type SessionCall,
  type SessionInfo,
  type SnapshotCall,
  type StreamCall,
  type SyncCall,
  type VersionOfCall,
  type WirePage,
  type WirePageCall,
} from './calls.js';
import { armBy, closeExpired, earliestExpiry } from './expiry.js';
import { FeedApply } from './feed-apply.js';
import { FeedDelivery } from './feed-delivery.js';
import { LIVE_PRINCIPAL_HEADER, type LivePrincipal, MAX_LIVE_SOCKETS } from './live.js';
import { isPushState, LivePush, PUSH_HEADER, PUSH_TAG, parseSubscription } from './live-push.js';
import { recordedName, recordName } from './own-name.js';
import { checkPrincipal, SyncEdges } from './sync-edges.js';
import { checkFeedWait, checkWait, type WaitLogCall, type WaitStreamCall, Waits } from './waits.js';
import { readWirePage } from './wire-page.js';

/** Where a stream object keeps the last version its database's feed acknowledged. */
const DELIVERED_KEY = '#feed/delivered';

/** The stream a stream object's name stands for (`streamObjectName`), if it is one. */
const streamOfName = (name: string | undefined): StreamId | undefined => {
  const parts = name?.split('/');
  if (parts?.length !== 3) return undefined;
  const [database, type, id] = parts.map(decodeURIComponent) as [string, string, string];
  return { database, type, id };
};

/** Store settings an `EventStoreObject` subclass may set (everything but the storage). */
export type EventStoreObjectOptions = Omit<EventStoreOptions, 'kv'>;

/**
 * The largest page `read` and `load` answer: 500 events, 8 MiB of events. Workers RPC
 * carries at most 32 MiB per result; a page stays well under it, the largest event
 * included (a Durable Object entry holds at most about 2 MB).
 */
export const READ_PAGE_LIMITS: PageLimits = Object.freeze({
  maxEvents: 500,
  maxBytes: 8 * 1024 * 1024,
});

/**
 * About the bytes a value weighs in an RPC result, in the units of core's `payloadSize`,
 * for any value the hosted store hands out (the instances a superjson codec rebuilds
 * included, counted by their own properties): a value met at several places counts at
 * each, a value inside itself once.
 */
export const approximateSize = (root: unknown): number => {
  const sizes = new Map<object, number>();
  const size = (value: unknown): number => {
    switch (typeof value) {
      case 'string':
        return 2 + charBytes(value);
      case 'number':
      case 'bigint':
        return 9 + (typeof value === 'bigint' ? Math.ceil(value.toString(16).length / 2) : 0);
      case 'object':
        if (value !== null) break;
        return 1;
      default:
        return 1;
    }
    const known = sizes.get(value);
    if (known !== undefined) return known;
    sizes.set(value, 1); // while inside it: a cycle counts once
    let total = 1;
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) total += value.byteLength;
    else if (value instanceof Date) total += 8;
    else if (value instanceof RegExp) total += size(value.source) + size(value.flags);
    else if (value instanceof Map) for (const [k, v] of value) total += size(k) + size(v);
    else if (value instanceof Set || Array.isArray(value)) for (const v of value) total += size(v);
    else {
      for (const [k, v] of Object.entries(value)) total += size(k) + size(v);
    }
    sizes.set(value, total);
    return total;
  };
  return size(root);
};

/**
 * One page of `stream.read(options)` as the object answers it (`readPage` in core, events
 * weighed by `approximateSize`).
 */
export const readPage = <E extends EventShape>(
  stream: Pick<EventStream<E>, 'read' | 'version'>,
  options: ReadOptions = {},
  limits: PageLimits = READ_PAGE_LIMITS,
): Promise<ReadPage<E>> => readPageOf(stream, options, limits, approximateSize);

/**
 * One page of `stream.load()`: the latest snapshot, then a page (`readPage`) of the events
 * after it, the snapshot's state counted in the page's bytes. `version` is the stream's
 * version the whole load stands for (the end `next` reads up to).
 */
export const loadPage = async <E extends EventShape, S>(
  stream: Pick<EventStream<E>, 'read' | 'version' | 'latestSnapshot'>,
  limits: PageLimits = READ_PAGE_LIMITS,
): Promise<LoadPage<E, S>> => {
  const snapshot = await stream.latestSnapshot<S>();
  const page = await readPage(
    stream,
    { from: (snapshot?.version ?? 0) + 1 },
    {
      maxEvents: limits.maxEvents,
      maxBytes: Math.max(0, limits.maxBytes - (snapshot ? approximateSize(snapshot.state) : 0)),
    },
  );
  const version = page.next?.to ?? page.events.at(-1)?.version ?? snapshot?.version ?? 0;
  return { snapshot, events: page.events, version, ...(page.next ? { next: page.next } : {}) };
};

/**
 * A Durable Object hosting an event store on its own SQLite-backed storage, served over
 * Workers RPC. Every method returns an `RpcResult` (errors as data); use
 * `createDurableObjectEventStore` on the calling side to get the store API back, with
 * the same error classes. Nothing is kept in memory between calls but the store itself:
 * sessions are re-attached from their lease in storage on each call, so an evicted or
 * restarted object loses nothing.
 *
 * Objects are addressed by name (`streamObjectName` or `databaseObjectName`); an object
 * with a name refuses streams that belong to another object.
 *
 * @example
 * export class EventStore extends EventStoreObject<Env> {
 *   protected override storeOptions() {
 *     return { sessionTimeoutMs: 30_000, indexes: ['eventType'] as const };
 *   }
 * }
 */
export class EventStoreObject<Env = unknown> extends DurableObject<Env> {
  #replica: Replica | undefined;
  /** The sync edges of a database's object (one per routing its callers use). */
  readonly #syncEdges = new SyncEdges({
    name: this.ctx.id.name,
    replica: () => this.#hosted(),
    feedNamespace: () => this.feedNamespace(),
    changed: (change) => {
      this.#schedulePoke(change);
      // A push under 'stream' routing copies its events into the feed: reads waiting for
      // them look again.
      this.#feedWaits.wake();
    },
  });
  /** The sockets' poke, when one is due: changes in one turn of the event loop share it. */
  #poke: { timer: ReturnType<typeof setTimeout>; only: string | null } | undefined;
  /** A stream object's delivery to its feed (under 'stream' routing with a feed). */
  #delivery: FeedDelivery | undefined | null;
  /** The feed's batches of deliveries (made on the first one). */
  #feedApply: FeedApply | undefined;
  /**
   * Database-wide reads waiting for the feed to hold their caller's appends (`feedWait`),
   * bounded as the long-polls are.
   */
  readonly #feedWaits = new Waits();
  /** Long-polls (`waitStream`, `waitLog`) waiting for this object's next change. */
  readonly #waits = new Waits();
  /** The live push sockets (`live-push.ts`), made on first use. */
  #push: LivePush | undefined;

  /**
   * The namespace of this class, through which a stream object delivers its events to its
   * database's object (the feed) under `'stream'` routing, so that `query` and `readLog`
   * work there. Default: none (no delivery; database-wide reads then need `'database'`
   * routing). A Worker's subclass returns its own binding. (The object cannot find it by
   * itself: a service binding in `env` answers any property it is asked for.)
   * @example
   * export class EventStore extends EventStoreObject<Env> {
   *   protected override feedNamespace() { return this.env.EVENT_STORE; }
   * }
   */
  protected feedNamespace(): EventStoreObjectNamespace | undefined {
    return undefined;
  }

  /**
   * Settings of the hosted store (codec, indexes, timeouts, logger...). Called once, on
   * the first call the object serves, so subclasses may use their own fields.
   */
  protected storeOptions(): EventStoreObjectOptions {
    return {};
  }

  /**
   * How many live sync sockets (`/sync/live`, one per replica online) the object holds at
   * most; the next is refused with 503 and its replica long-polls. Default
   * `MAX_LIVE_SOCKETS` (10,000).
   */
  protected maxLiveSockets(): number {
    return MAX_LIVE_SOCKETS;
  }

  /** The hosted store, for subclasses that add methods of their own. */
  protected get store(): EventStore {
    return this.#hosted().store;
  }

  /** The hosted store, with the sync edge's records (`#` keys) beside it on the same storage. */
  #hosted(): Replica {
    this.#replica ??= createReplica({
      ...this.storeOptions(),
      // A stream object that delivers to a feed keeps no global log or indexes of its
      // own: the feed keeps them for the whole database, and the stream writes one
      // record per event.
      ...(this.#feedDelivery() ? { globalLog: false, indexes: false } : {}),
      kv: createDurableObjectKv(this.ctx.storage),
    });
    return this.#replica;
  }

  /** The delivery of this object's stream to its feed, if it is a stream object with one. */
  #feedDelivery(): FeedDelivery | undefined {
    if (this.#delivery !== undefined) return this.#delivery ?? undefined;
    const ref = streamOfName(this.#ownName());
    const namespace = ref && this.feedNamespace();
    if (ref === undefined || namespace === undefined) {
      this.#delivery = null;
      return undefined;
    }
    let delivered: number | undefined;
    let feed: ReturnType<EventStoreObjectNamespace['get']> | undefined;
    this.#delivery = new FeedDelivery({
      ref,
      version: () => this.store.stream(ref).version(),
      read: async (from, to, max) =>
        (
          await readPage(
            this.store.stream(ref),
            { from, to },
            { ...this.pageLimits(), maxEvents: max },
          )
        ).events,
      delivered: async () => {
        if (delivered === undefined) {
          const [stored] = await this.#hosted().get([DELIVERED_KEY]);
          delivered = typeof stored === 'number' ? stored : 0;
        }
        return delivered;
      },
      setDelivered: async (version) => {
        await this.#hosted().commit({ puts: [{ key: DELIVERED_KEY, value: version }] });
        delivered = version;
      },
      send: async (events) => {
        // One stub for the object's life (an id from a name is a hash to compute), made
        // again after a failed call, which may have broken it.
        feed ??= namespace.get(namespace.idFromName(databaseObjectName(ref.database)));
        try {
          const result = await (feed as unknown as EventStoreObject).feedDeliver({ ref, events });
          return unwrapResult(result as RpcResult<FeedDeliverResult>).version;
        } catch (error) {
          feed = undefined;
          throw error;
        }
      },
      // Never past a socket's expiry, which the same alarm closes (`expiry.ts`).
      arm: (at) => this.ctx.storage.setAlarm(Math.min(at, earliestExpiry(this.ctx) ?? at)),
      now: () => Date.now(),
      failed: (error) => {
        this.storeOptions().logger?.warn?.('feed delivery failed; the alarm retries it', {
          event: 'feed.delivery-failed',
          ...ref,
          error: (error as Error)?.message ?? String(error),
        });
      },
    });
    return this.#delivery;
  }

  /**
   * The object's alarm: closes the sockets whose token expired, and a stream object delivers
   * what its feed does not hold yet. The next expiry is armed last, since the delivery sets
   * the alarm outright (`expiry.ts`).
   */
  override async alarm(): Promise<void> {
    const next = closeExpired(this.ctx, Date.now());
    try {
      await this.#feedDelivery()?.alarm();
    } finally {
      if (next !== undefined) await armBy(this.ctx.storage, next);
    }
  }

  /** A session-less handle, or the session `sessionId` re-attached from its lease. */
  async #stream({ ref, sessionId }: StreamCall): Promise<EventStream> {
    this.#checkRouting(ref);
    return sessionId === undefined ? this.store.stream(ref) : this.store.resume(ref, sessionId);
  }

  /**
   * The last stream `#checkRouting` let through. A stream object serves one stream, so
   * every call after the first compares three strings instead of checking the names and
   * encoding the object's name again (a few µs of every append and read).
   */
  #routed: StreamId | undefined;

  /**
   * The name the object recorded, for one whose name the runtime does not give
   * (`own-name.ts`): undefined until looked up, null when it recorded none.
   */
  #recorded: string | null | undefined;

  /** An unnamed object whose first stream's name is not its own has no name to take. */
  #nameless = false;

  /** The object's name: the runtime's, or the one it recorded (`own-name.ts`). */
  #ownName(): string | undefined {
    if (this.ctx.id.name !== undefined) return this.ctx.id.name;
    this.#recorded ??= recordedName(this.ctx.storage.sql) ?? null;
    return this.#recorded ?? undefined;
  }

  /**
   * An object the runtime does not tell its name takes the name of the first stream it is
   * called for, if that name's id is its own: the object of a stream whose name is too long
   * for the runtime (`own-name.ts`). Any other unnamed object (made from a unique id) stays
   * unnamed and serves what it is asked.
   */
  #takeName(ref: StreamRef): string | undefined {
    if (this.#nameless) return undefined;
    const name = streamObjectName(ref);
    if (this.feedNamespace()?.idFromName(name).equals(this.ctx.id)) {
      recordName(this.ctx.storage.sql, name);
      this.#recorded = name;
      return name;
    }
    this.#nameless = true;
    return undefined;
  }

  // A named object holds one stream or one database; serving another here would split its
  // data between two objects, so such a call is refused.
  #checkRouting(ref: StreamRef | undefined, database?: string): void {
    const own = this.#ownName();
    if (ref === undefined) {
      if (database !== undefined) checkName('options.database', database);
      if (own === undefined || own === databaseObjectName(database)) return;
      throw new InvalidArgumentError(
        'routing',
        `database-wide queries of database '${database ?? 'default'}' need the object named ` +
          `'${databaseObjectName(database)}' ('database' routing), not '${own}'`,
      );
    }
    const { database: db, type, id } = toStreamId(ref);
    const routed = this.#routed;
    if (routed?.database === db && routed.type === type && routed.id === id) return;
    // Checked before they are encoded into an object name (a lone surrogate cannot be).
    checkName('ref.database', db);
    checkName('ref.type', type);
    checkName('ref.id', id);
    const name = own ?? this.#takeName(ref);
    // An object with no name (made from a unique id) serves what it is asked.
    if (name === undefined) return;
    if (name === streamObjectName(ref) || name === databaseObjectName(db)) {
      this.#routed = { database: db, type, id };
      return;
    }
    throw new InvalidArgumentError(
      'ref',
      `stream ${ref.type}/${ref.id} of database '${db}' does not live in the object named '${name}'`,
    );
  }

  append(call: AppendCall): Promise<RpcResult<AppendResult>> {
    return settle('append', async () => {
      const result = await (await this.#stream(call)).append(call.events, call.options);
      if (!result.deduplicated) {
        this.#changed({});
        // Arms the alarm with this append (so the events reach the feed whatever happens
        // next), then delivers without holding up the answer.
        void this.#feedDelivery()?.appended(result.version);
      }
      return result;
    });
  }

  /**
   * The settings of the pages `read` and `load` answer (default `READ_PAGE_LIMITS`);
   * the callers of `createDurableObjectEventStore` page through them.
   */
  protected pageLimits(): PageLimits {
    return READ_PAGE_LIMITS;
  }

  /** A page of the range (`ReadPage`): its `next` reads the rest. */
  read(call: ReadCall): Promise<RpcResult<ReadPage>> {
    return settle('read', async () =>
      call.page === undefined
        ? readPage(await this.#stream(call), call.options, this.pageLimits())
        : readCallerPage(await this.#stream(call), call.options, call.page, this.pageLimits()),
    );
  }

  /**
   * A page of the caller's own as the wire JSON text of its answer (`WirePage`,
   * `wire-page.ts`): what the Worker sends for `GET .../events`. Errors are `read`'s.
   */
  readWire(call: WirePageCall): Promise<RpcResult<WirePage>> {
    return settle('read', async () =>
      readWirePage(await this.#stream(call), call.options, call.page, this.pageLimits()),
    );
  }

  version(call: StreamCall): Promise<RpcResult<number>> {
    return settle('version', async () => (await this.#stream(call)).version());
  }

  versionOf(call: VersionOfCall): Promise<RpcResult<number>> {
    return settle('versionOf', async () => (await this.#stream(call)).versionOf(call.messageId));
  }

  /** The latest snapshot and a page of the events after it (`LoadPage`): `next` reads the rest. */
  load(call: StreamCall): Promise<RpcResult<LoadPage>> {
    return settle('load', async () => loadPage(await this.#stream(call), this.pageLimits()));
  }

  saveSnapshot(call: SaveSnapshotCall): Promise<RpcResult<void>> {
    return settle('saveSnapshot', async () =>
      (await this.#stream(call)).saveSnapshot(call.version, call.state),
    );
  }

  latestSnapshot(call: StreamCall): Promise<RpcResult<Snapshot | undefined>> {
    return settle('latestSnapshot', async () => (await this.#stream(call)).latestSnapshot());
  }

  snapshotAt(call: SnapshotCall): Promise<RpcResult<Snapshot>> {
    return settle('snapshotAt', async () => (await this.#stream(call)).snapshotAt(call.version));
  }

  snapshotVersions(call: StreamCall): Promise<RpcResult<number[]>> {
    return settle('snapshotVersions', async () => (await this.#stream(call)).snapshotVersions());
  }

  deleteSnapshot(call: SnapshotCall): Promise<RpcResult<void>> {
    return settle('deleteSnapshot', async () =>
      (await this.#stream(call)).deleteSnapshot(call.version),
    );
  }

  clearSnapshots(call: StreamCall): Promise<RpcResult<number>> {
    return settle('clearSnapshots', async () => (await this.#stream(call)).clearSnapshots());
  }

  /** Takes the stream's lease; later calls of the session pass the returned `sessionId`. */
  open(call: OpenCall): Promise<RpcResult<SessionInfo>> {
    return settle('open', async () => {
      this.#checkRouting(call.ref);
      const session = await this.store.open(call.ref, call.options);
      return { sessionId: session.sessionId, expiresAt: session.expiresAt };
    });
  }

  /** Checks that `sessionId` still holds the stream's lease, and until when. */
  resume(call: SessionCall): Promise<RpcResult<SessionInfo>> {
    return settle('resume', async () => {
      this.#checkRouting(call.ref);
      const session = await this.store.resume(call.ref, call.sessionId);
      return { sessionId: session.sessionId, expiresAt: session.expiresAt };
    });
  }

  renew(call: SessionCall): Promise<RpcResult<SessionInfo>> {
    return settle('renew', async () => {
      this.#checkRouting(call.ref);
      const session = await this.store.resume(call.ref, call.sessionId);
      await session.renew();
      return { sessionId: session.sessionId, expiresAt: session.expiresAt };
    });
  }

  /**
   * Releases the session's lease. Idempotent: a session that no longer holds the lease
   * (closed, expired, taken over) has nothing to release.
   */
  close(call: SessionCall): Promise<RpcResult<void>> {
    return settle('close', async () => {
      this.#checkRouting(call.ref);
      try {
        await (await this.store.resume(call.ref, call.sessionId)).close();
      } catch (error) {
        if (isNotOpenError(error) || isSessionExpiredError(error) || isInvalidSessionError(error)) {
          return;
        }
        throw error;
      }
    });
  }

  /** Database-wide: only meaningful in an object that holds the whole database. */
  query(call: QueryCall): Promise<RpcResult<QueryPage<EventShape>>> {
    return settle('query', async () => {
      this.#checkRouting(undefined, call.options?.database);
      await this.#feedApply?.flush(); // deliveries received before it (`feed-apply.ts`)
      return this.store.query(call.index, call.value, call.options);
    });
  }

  /** Database-wide: only meaningful in an object that holds the whole database. */
  readLog(call: ReadLogCall = {}): Promise<RpcResult<LogPage<EventShape>>> {
    return settle('readLog', async () => {
      this.#checkRouting(undefined, call.options?.database);
      await this.#feedApply?.flush();
      return this.store.readLog(call.options);
    });
  }

  /**
   * A long-poll on the stream (`WaitStreamCall`): answers its version as soon as it is past
   * `after`, or at `timeoutMs` (at most `MAX_WAIT_MS`). See `./waits.ts`.
   */
  waitStream(call: WaitStreamCall): Promise<RpcResult<number>> {
    return settle('waitStream', async () => {
      const { after, timeoutMs } = checkWait(call ?? {});
      const stream = await this.#stream({ ref: call.ref });
      return this.#waits.until('waitStream', after, timeoutMs, () => stream.version());
    });
  }

  /**
   * A long-poll on the database's log (`WaitLogCall`), in the object that serves it (the
   * feed under `'stream'` routing): answers its position as soon as it is past `after`,
   * or at `timeoutMs` (at most `MAX_WAIT_MS`). With `timeoutMs: 0`, the log's position.
   */
  waitLog(call: WaitLogCall): Promise<RpcResult<number>> {
    return settle('waitLog', async () => {
      const { after, timeoutMs } = checkWait(call ?? {});
      this.#checkRouting(undefined, call.database);
      await this.#feedApply?.flush();
      const database = call.database === undefined ? {} : { database: call.database };
      return this.#waits.until('waitLog', after, timeoutMs, () => this.store.logPosition(database));
    });
  }

  /** The log grew outside a push: long-polls look again, live sockets are poked. */
  #changed(change: EdgeChange): void {
    if (!this.#syncEdges.notify(change)) this.#schedulePoke(change);
  }

  /**
   * Pokes every live socket once for the changes of this turn (a burst of appends is one
   * poke), except the socket of the replica whose push made all of them (it pulls anyway).
   */
  #schedulePoke(change: EdgeChange): void {
    this.#waits.wake();
    this.#pushes().changed();
    if (this.#poke) {
      if (this.#poke.only !== change.clientId) this.#poke.only = null;
      return;
    }
    const only = change.clientId ?? null;
    if (this.ctx.getWebSockets().length === 0) return;
    this.#poke = {
      only,
      timer: setTimeout(() => {
        const only = this.#poke?.only;
        this.#poke = undefined;
        const now = Date.now();
        for (const socket of this.ctx.getWebSockets()) {
          const live = socket.deserializeAttachment() as LivePrincipal | null;
          if (isPushState(live)) continue;
          try {
            if (live && live.expiresAt <= now) {
              socket.close(LIVE_CLOSE_TOKEN_EXPIRED, 'token expired');
            } else if (typeof only !== 'string' || live?.clientId !== only) {
              socket.send(POKE);
            }
          } catch {
            // A socket closing meanwhile: its client reconnects and pulls.
          }
        }
      }, 0),
    };
  }

  /**
   * The live socket of a database's replicas (the Worker's `GET /v1/{database}/sync/live`,
   * authenticated there and forwarded here with its principal). Accepted with the
   * hibernation API: an idle socket keeps no object in memory. Poked at once (a replica
   * that reconnects pulls what it missed) and after every change of the log.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.has(PUSH_HEADER)) return this.#acceptPush(request);
    const raw = request.headers.get(LIVE_PRINCIPAL_HEADER);
    if (raw === null || request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a live sync WebSocket from the Worker', { status: 426 });
    }
    const principal = JSON.parse(raw) as LivePrincipal;
    try {
      checkPrincipal(this.ctx.id.name, principal);
    } catch (error) {
      return new Response((error as Error).message, { status: 400 });
    }
    // Push sockets are counted against their own bound (`live-push.ts`).
    const live = this.ctx.getWebSockets().length - this.ctx.getWebSockets(PUSH_TAG).length;
    if (live >= this.maxLiveSockets()) {
      return new Response(
        `the object already holds ${live} live sync sockets; retry later or long-poll`,
        { status: 503 },
      );
    }
    // Closed at its token's expiry even if nothing happens until then (`expiry.ts`).
    if (Number.isSafeInteger(principal.expiresAt)) {
      await armBy(this.ctx.storage, principal.expiresAt);
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment(principal);
    // Answered by the runtime without waking a hibernated object.
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    server.send(POKE);
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: { 'Sec-WebSocket-Protocol': LIVE_SUBPROTOCOL },
    });
  }

  /**
   * A push socket's acks go to `live-push.ts`. A live sync socket's client sends nothing
   * but pings, which the runtime answers without waking the object: anything else is a
   * client that does not speak the protocol (or one that would keep the object awake),
   * closed with 1003.
   */
  override webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): void {
    if (isPushState(socket.deserializeAttachment())) {
      this.#pushes().message(socket, message);
      return;
    }
    try {
      socket.close(1003, `a live sync socket takes only '${PING}'`);
    } catch {
      // Already closed.
    }
  }

  override webSocketClose(socket: WebSocket, code: number, reason: string): void {
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  /** The live push sockets: events read from the hosted store. */
  #pushes(): LivePush {
    this.#push ??= new LivePush(this.ctx, {
      stream: (ref, from, max) => this.store.stream(ref).read({ from, limit: max }),
      log: async (database, after, max) =>
        (await this.store.readLog({ database, after, limit: max })).events,
      failed: (error) =>
        this.storeOptions().logger?.warn?.('live push failed; the socket was closed', {
          event: 'push.failed',
          error: (error as Error)?.message ?? String(error),
        }),
    });
    return this.#push;
  }

  /**
   * A push socket (the Worker's `GET .../live`, authenticated there): accepted here when
   * this object holds what it follows (the stream, or the database's log).
   */
  #acceptPush(request: Request): Response | Promise<Response> {
    const subscription = parseSubscription(request.headers.get(PUSH_HEADER) as string);
    try {
      if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
        throw new InvalidArgumentError('Upgrade', 'a push socket is a WebSocket');
      }
      if (typeof subscription === 'string') throw new InvalidArgumentError('push', subscription);
      if (subscription.kind === 'stream') this.#checkRouting(subscription.ref);
      else this.#checkRouting(undefined, subscription.database);
    } catch (error) {
      return new Response((error as Error).message, { status: 400 });
    }
    return this.#pushes().accept(subscription);
  }

  /**
   * Takes a stream object's delivery (under `'stream'` routing this database's object is
   * the feed: it keeps a copy of every stream, with the global log and the indexes).
   * Idempotent by (stream, version): events it holds are skipped; when it lacks versions
   * before the batch it takes nothing, and its answer (the version it holds) tells the
   * stream object where to resume.
   */
  feedDeliver(call: FeedDeliverCall): Promise<RpcResult<FeedDeliverResult>> {
    return settle('feedDeliver', async () => {
      const { ref, events } = (call ?? {}) as Partial<FeedDeliverCall>;
      const stream = toStreamId(ref as StreamRef);
      this.#checkRouting(undefined, stream.database);
      const replica = this.#hosted();
      const first = events?.[0]?.version;
      if (!Array.isArray(events) || first === undefined) {
        return { version: (await replica.head(stream)).version };
      }
      // Applied with the deliveries of this turn in one commit (`feed-apply.ts`), with no
      // head read of its own: a gap before the events is a mismatch naming the version held.
      this.#feedApply ??= new FeedApply({
        replicateMany: (deliveries) => replica.replicateMany(deliveries),
        applied: () => {
          this.#changed({});
          this.#feedWaits.wake();
        },
        later: (apply) => setTimeout(apply, 0),
      });
      const outcome = await this.#feedApply.deliver({ ref: stream, events });
      if ('version' in outcome) return { version: outcome.version };
      const { error } = outcome;
      if (isVersionMismatchError(error) && error.actual < first - 1)
        return { version: error.actual };
      throw error;
    });
  }

  /**
   * A stream object's delivery to its feed, now (a push under `'stream'` routing asks for it
   * before the feed copies the stream): resolves `true` once the feed holds the stream's
   * version, `false` when the delivery failed (the alarm retries it) or there is none.
   */
  feedFlush(call: StreamCall): Promise<RpcResult<boolean>> {
    return settle('feedFlush', async () => {
      this.#checkRouting(call?.ref);
      return (await this.#feedDelivery()?.run()) ?? false;
    });
  }

  /**
   * Read-your-writes under `'stream'` routing: resolves once this feed holds every stream
   * at its version, or with `false` after `timeoutMs` (at most `MAX_FEED_WAIT_MS`).
   */
  feedWait(call: FeedWaitCall): Promise<RpcResult<boolean>> {
    return settle('feedWait', async () => {
      const { streams, timeoutMs } = checkFeedWait(call ?? {}, MAX_FEED_WAIT_MS);
      const waited = streams.map(({ ref, version }) => {
        const stream = toStreamId(ref);
        this.#checkRouting(undefined, stream.database);
        return { stream, version };
      });
      const replica = this.#hosted();
      // 1 once the feed holds every stream at its version, 0 before: a wait "past 0".
      const holds = async () => {
        for (const { stream, version } of waited) {
          if ((await replica.head(stream)).version < version) return 0;
        }
        return 1;
      };
      return (await this.#feedWaits.until('feedWait', 0, timeoutMs, holds)) === 1;
    });
  }

  /**
   * Applies a sync push (`PushRequest`) for a principal the caller verified. A push's
   * appends and its client record are written in one request of this object, in several
   * commits: a retry of the same seq is answered from the record or, if the record was not
   * written, applied again with the events' message ids deduplicating, so nothing lands
   * twice either way.
   */
  syncPush(call: SyncCall): Promise<RpcResult<PushResponse>> {
    return settle('syncPush', async () => {
      const { principal, request, routing } = (call ?? {}) as Partial<SyncCall>;
      return this.#syncEdges.edge(principal, routing).push(principal as SyncPrincipal, request);
    });
  }

  /**
   * Answers a long-poll (`WaitRequest`): when the log holds events after its cursor, or at
   * its timeout (at most `MAX_WAIT_MS` of `@eventkv/sync`).
   */
  syncWait(call: SyncCall): Promise<RpcResult<WaitResponse>> {
    return settle('syncWait', async () => {
      const { principal, request, routing } = (call ?? {}) as Partial<SyncCall>;
      await this.#feedApply?.flush();
      return this.#syncEdges.edge(principal, routing).wait(principal as SyncPrincipal, request);
    });
  }

  /** Answers a sync pull (`PullRequest`): a page of the database's log after the cursor. */
  syncPull(call: SyncCall): Promise<RpcResult<PullResponse>> {
    return settle('syncPull', async () => {
      const { principal, request, routing } = (call ?? {}) as Partial<SyncCall>;
      await this.#feedApply?.flush();
      return this.#syncEdges.edge(principal, routing).pull(principal as SyncPrincipal, request);
    });
  }
}
