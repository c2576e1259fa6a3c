import { createMemoryKv } from '@eventkv/core';
import {
  createHttpSyncRemote,
  createSyncedStore,
  LIVE_CLOSE_TOKEN_EXPIRED,
  LIVE_SUBPROTOCOL,
  type LiveSocket,
  type LiveSocketEvent,
  SYNC_PROTOCOL,
  type SyncRemote,
  type WaitResponse,
} from '@eventkv/sync';
import { describe, expect, it } from 'vitest';
import { acceptSocket } from './accepted-socket';
import {
  api,
  freshDatabase,
  ORIGIN,
  send,
  sendDatabaseRouted,
  type TokenClaims,
  tokenFor,
} from './helpers';

// The live side of sync (packages/sync/PROTOCOL.md, "Live"): the WebSocket a database's
// object pokes, and the long-poll for clients that cannot hold one.

const account = { type: 'Account', id: '42' };
const deposit = (amount: number) => ({ type: 'Deposited', data: { amount } });

/** A socket opened through the Worker under test, recording what it receives. */
interface OpenedSocket {
  readonly status: number;
  readonly protocol: string | null;
  readonly socket: WebSocket | null;
  readonly messages: string[];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves at the `count`-th message received. */
  received(count: number): Promise<void>;
}

const openSocket = async (
  db: string,
  options: {
    claims?: TokenClaims;
    protocols?: (token: string) => string[];
    query?: string;
    headers?: Record<string, string>;
    via?: (request: Request) => Promise<Response>;
  } = {},
): Promise<OpenedSocket> => {
  const token = await tokenFor(db, { sub: 'ann', ...options.claims });
  const protocols = options.protocols?.(token) ?? [LIVE_SUBPROTOCOL, `bearer.${token}`];
  const res = await (options.via ?? sendDatabaseRouted)(
    new Request(`${ORIGIN}/v1/${db}/sync/live${options.query ?? ''}`, {
      headers: {
        Upgrade: 'websocket',
        'Sec-WebSocket-Protocol': protocols.join(', '),
        ...options.headers,
      },
    }),
  );
  const messages: string[] = [];
  const socket = res.webSocket;
  const accepted = acceptSocket(
    socket,
    () => messages.length,
    (data) => messages.push(data),
  );
  if (!socket) await res.text();
  return {
    status: res.status,
    protocol: res.headers.get('Sec-WebSocket-Protocol'),
    socket,
    messages,
    ...accepted,
  };
};

const POKE = '{"type":"poke"}';

/** Lets the object's poke of a change (sent after the current turn) arrive. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

type Send = (request: Request) => Promise<Response>;

/** A replica on its own memory storage, syncing with the Worker (`via`) as `user`. */
const replicaVia = async (via: Send, db: string, user = 'ann') =>
  createSyncedStore({
    kv: createMemoryKv(),
    remote: createHttpSyncRemote(ORIGIN, {
      token: await tokenFor(db, { sub: user }),
      fetch: via,
      WebSocket: false,
    }),
  });

// The Worker as deployed (ROUTING=stream: the database's object is the feed the stream
// objects deliver to, and pokes and long-polls come from it) and with ROUTING=database.
const ROUTINGS = [
  { routing: 'stream', via: send },
  { routing: 'database', via: sendDatabaseRouted },
] as const;

describe.each(ROUTINGS)('the live socket (ROUTING=$routing)', ({ routing, via }) => {
  const replica = (db: string, user?: string) => replicaVia(via, db, user);
  const open = (db: string, options: Parameters<typeof openSocket>[1] = {}) =>
    openSocket(db, { via, ...options });

  it('accepts the live subprotocol with the token offered as a subprotocol, and pokes at once', async () => {
    const live = await open(freshDatabase());
    expect(live.status).toBe(101);
    expect(live.protocol).toBe(LIVE_SUBPROTOCOL);
    await live.received(1);
    expect(live.messages).toEqual([POKE]);
    live.socket?.close(1000, 'done');
  });

  it('pokes every socket of the database after a push, and not the pusher itself', async () => {
    const db = freshDatabase();
    const writer = await replica(db);
    await writer.stream(account).append(deposit(1));
    const { clientId } = await writer.sync.status();
    const other = await open(db);
    const own = await open(db, { query: `?clientId=${encodeURIComponent(clientId)}` });
    const elsewhere = await open(freshDatabase());
    await Promise.all([other.received(1), own.received(1), elsewhere.received(1)]);

    await writer.sync.syncNow();
    await other.received(2);
    await settle();
    if (routing === 'database') {
      expect(other.messages).toEqual([POKE, POKE]);
      expect(own.messages).toEqual([POKE]); // its own push: it pulled already
    } else {
      // The feed hears of the push twice, from the push's own copy (which spares the
      // pusher) and from the stream object's delivery when it comes first (which cannot
      // tell whose push it was): a poke or two, the pusher's at most one pull too many.
      expect(new Set(other.messages)).toEqual(new Set([POKE]));
      expect(other.messages.length).toBeLessThanOrEqual(3);
      expect(own.messages.length).toBeLessThanOrEqual(2);
    }
    expect(elsewhere.messages).toEqual([POKE]); // another database's object
    for (const s of [other, own, elsewhere]) s.socket?.close(1000, 'done');
  });

  it('pokes after an append through the ordinary HTTP route, once for a burst', async () => {
    const db = freshDatabase();
    const live = await open(db);
    await live.received(1);
    const path = `/streams/${account.type}/${account.id}/events`;
    await Promise.all(
      [1, 2, 3].map((n) => api(db, 'POST', path, { body: { events: [deposit(n)] }, via })),
    );
    await live.received(2);
    await settle();
    expect(live.messages.length).toBeGreaterThanOrEqual(2);
    expect(live.messages.length).toBeLessThanOrEqual(4);
    expect(new Set(live.messages)).toEqual(new Set([POKE]));
    live.socket?.close(1000, 'done');
  });

  it('answers ping with pong', async () => {
    const live = await open(freshDatabase());
    await live.received(1);
    live.socket?.send('ping');
    await live.received(2);
    expect(live.messages[1]).toBe('pong');
    live.socket?.close(1000, 'done');
  });

  it('closes a socket that sends anything but a ping, with 1003', async () => {
    const live = await open(freshDatabase());
    await live.received(1);
    live.socket?.send('{"type":"pull"}');
    expect((await live.closed).code).toBe(1003);
  });

  it('closes a socket whose token has expired at its next poke, with the code to reconnect', async () => {
    const db = freshDatabase();
    const live = await open(db, { claims: { exp: Math.floor(Date.now() / 1000) + 1 } });
    await live.received(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await api(db, 'POST', `/streams/${account.type}/${account.id}/events`, {
      body: { events: [deposit(1)] },
      via,
    });
    expect((await live.closed).code).toBe(LIVE_CLOSE_TOKEN_EXPIRED);
  });

  it("closes an idle socket at its token's expiry, without waiting for a poke", async () => {
    const db = freshDatabase();
    // Two seconds (a token's exp is in seconds): room to open the socket on a loaded machine.
    const live = await open(db, { claims: { exp: Math.floor(Date.now() / 1000) + 2 } });
    await live.received(1);
    // Nothing is written from here on: the object's alarm closes the socket.
    expect((await live.closed).code).toBe(LIVE_CLOSE_TOKEN_EXPIRED);
  });

  it('is refused without a token, for another database, without the subprotocol or the upgrade', async () => {
    const db = freshDatabase();
    const noToken = await open(db, { protocols: () => [LIVE_SUBPROTOCOL] });
    expect(noToken.status).toBe(401);
    expect(noToken.socket).toBeNull();

    const other = await open(db, {
      protocols: (token) => [LIVE_SUBPROTOCOL, `bearer.${token}`],
      claims: { db: freshDatabase() },
    });
    expect(other.status).toBe(403);

    const noProtocol = await open(db, { protocols: (token) => [`bearer.${token}`] });
    expect(noProtocol.status).toBe(400);

    const token = await tokenFor(db, { sub: 'ann' });
    const plain = await via(
      new Request(`${ORIGIN}/v1/${db}/sync/live`, {
        headers: { Authorization: `Bearer ${token}` },
      }),
    );
    expect(plain.status).toBe(400);
    expect(((await plain.json()) as { error: { message: string } }).error.message).toMatch(
      /WebSocket/,
    );

    const noUser = await open(db, { claims: { sub: undefined } });
    expect(noUser.status).toBe(401);

    // The client id travels with the socket (its attachment holds at most 2 KiB): a name.
    for (const clientId of ['x'.repeat(5_000), '%00']) {
      const odd = await open(db, { query: `?clientId=${clientId}` });
      expect([odd.status, odd.socket], clientId.slice(0, 8)).toEqual([400, null]);
    }
  });

  it('is what the HTTP remote opens: the URL, the subprotocols and a fresh token each time', async () => {
    const db = freshDatabase();
    const opened: { url: string; protocols: string[] }[] = [];
    let tokens = 0;
    // A WebSocket that reaches the Worker under test instead of the network.
    class TestSocket implements LiveSocket {
      readyState = 0;
      #socket: Promise<WebSocket>;
      constructor(url: string, protocols: string[]) {
        opened.push({ url, protocols });
        const request = new Request(url.replace(/^ws/, 'http'), {
          headers: { Upgrade: 'websocket', 'Sec-WebSocket-Protocol': protocols.join(', ') },
        });
        this.#socket = via(request).then((res) => {
          const socket = res.webSocket as WebSocket;
          socket.accept();
          this.readyState = 1;
          return socket;
        });
      }
      send(data: string) {
        void this.#socket.then((s) => s.send(data));
      }
      close(code?: number, reason?: string) {
        void this.#socket.then((s) => s.close(code, reason));
      }
      addEventListener(type: string, listener: (event: LiveSocketEvent) => void) {
        void this.#socket.then((s) =>
          s.addEventListener(type as 'message', listener as (event: MessageEvent) => void),
        );
      }
    }
    const remote = createHttpSyncRemote(ORIGIN, {
      getToken: async () => {
        tokens++;
        return tokenFor(db, { sub: 'ann' });
      },
      database: db,
      fetch: via,
      WebSocket: TestSocket,
    });
    const socket = await (remote.openSocket as NonNullable<typeof remote.openSocket>)({
      clientId: 'c 1',
    });
    const first = await new Promise<string>((resolve) =>
      socket.addEventListener('message', (event) => resolve(String(event.data))),
    );
    expect(first).toBe(POKE);
    expect(opened[0]?.url).toBe(`wss://eventkv.test/v1/${db}/sync/live?clientId=c+1`);
    expect(opened[0]?.protocols[0]).toBe(LIVE_SUBPROTOCOL);
    expect(opened[0]?.protocols[1]).toMatch(/^bearer\.[\w-]+\.[\w-]+\.[\w-]+$/);
    await remote.openSocket?.();
    expect(tokens).toBe(2);
    socket.close(1000, 'done');
  });
});

describe.each(ROUTINGS)('the long-poll (ROUTING=$routing)', ({ via }) => {
  const replica = (db: string, user?: string) => replicaVia(via, db, user);
  const waitCall = async (db: string, body: unknown) => {
    const res = await via(
      new Request(`${ORIGIN}/v1/${db}/sync/wait`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${await tokenFor(db, { sub: 'ann' })}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify(body),
      }),
    );
    return { status: res.status, body: (await res.json()) as unknown };
  };
  /** The remote's long-poll (the HTTP remote always has one). */
  const waitOf = (remote: SyncRemote) => remote.wait as NonNullable<SyncRemote['wait']>;

  it('answers at once without a cursor, or with a cursor of another edge', async () => {
    const db = freshDatabase();
    const first = await waitCall(db, { protocol: SYNC_PROTOCOL });
    expect(first.status).toBe(200);
    expect((first.body as WaitResponse).changed).toBe(true);
    const stale = await waitCall(db, {
      protocol: SYNC_PROTOCOL,
      cursor: { serverId: 'another', position: 0 },
      timeoutMs: 20_000,
    });
    expect((stale.body as WaitResponse).changed).toBe(true);
  });

  it('answers changed: false at its timeout when nothing happened', async () => {
    const db = freshDatabase();
    const { serverId } = (await waitCall(db, { protocol: SYNC_PROTOCOL })).body as WaitResponse;
    const res = await waitCall(db, {
      protocol: SYNC_PROTOCOL,
      cursor: { serverId, position: 0 },
      timeoutMs: 30,
    });
    expect(res.body).toEqual({ protocol: SYNC_PROTOCOL, serverId, changed: false });
  });

  it('answers as soon as a push or an append lands after the cursor', async () => {
    const db = freshDatabase();
    const writer = await replica(db);
    const reader = createHttpSyncRemote(ORIGIN, {
      token: await tokenFor(db, { sub: 'bob' }),
      fetch: via,
    });
    const wait = waitOf(reader);
    const { serverId } = await wait({ protocol: SYNC_PROTOCOL });
    const waiting = wait({
      protocol: SYNC_PROTOCOL,
      cursor: { serverId, position: 0 },
      timeoutMs: 20_000,
    });
    await settle();
    await writer.stream(account).append(deposit(1));
    await writer.sync.syncNow();
    expect(await waiting).toEqual({ protocol: SYNC_PROTOCOL, serverId, changed: true });

    // Already behind: answered at once.
    const behind = await wait({
      protocol: SYNC_PROTOCOL,
      cursor: { serverId, position: 0 },
      timeoutMs: 20_000,
    });
    expect(behind.changed).toBe(true);

    const pulled = await reader.pull({
      protocol: SYNC_PROTOCOL,
      cursor: { serverId, position: 0 },
    });
    const cursor = (pulled as { cursor: { serverId: string; position: number } }).cursor;
    const next = wait({ protocol: SYNC_PROTOCOL, cursor, timeoutMs: 20_000 });
    await settle();
    await api(db, 'POST', `/streams/${account.type}/${account.id}/events`, {
      body: { events: [deposit(2)] },
      via,
    });
    expect((await next).changed).toBe(true);
  });

  it('refuses a timeout above the limit and a malformed cursor', async () => {
    const db = freshDatabase();
    const long = await waitCall(db, { protocol: SYNC_PROTOCOL, timeoutMs: 60_000 });
    expect(long.status).toBe(400);
    expect((long.body as { error: { field: string } }).error.field).toBe('timeoutMs');
    const bad = await waitCall(db, { protocol: SYNC_PROTOCOL, cursor: { position: 1 } });
    expect(bad.status).toBe(400);
  });

  it('can be cancelled by the caller, without a retry', async () => {
    const db = freshDatabase();
    let requests = 0;
    const remote = createHttpSyncRemote(ORIGIN, {
      token: await tokenFor(db, { sub: 'ann' }),
      // As the network's fetch does: an aborted request's answer is never awaited.
      fetch: (request) => {
        requests++;
        return new Promise<Response>((resolve, reject) => {
          request.signal.addEventListener('abort', () => reject(request.signal.reason));
          via(request).then(resolve, reject);
        });
      },
    });
    const wait = waitOf(remote);
    const { serverId } = await wait({ protocol: SYNC_PROTOCOL });
    const controller = new AbortController();
    const waiting = wait(
      { protocol: SYNC_PROTOCOL, cursor: { serverId, position: 0 }, timeoutMs: 20_000 },
      controller.signal,
    );
    await settle();
    controller.abort();
    await expect(waiting).rejects.toThrow();
    expect(requests).toBe(2);
  });
});
