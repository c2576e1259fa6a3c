import { env } from 'cloudflare:workers';
import { fromWire } from '@eventkv/client';
import {
  PUSH_CLOSE_SLOW_CONSUMER,
  PUSH_CLOSE_TOKEN_EXPIRED,
  PUSH_SUBPROTOCOL,
  type RecordedEvent,
} from '@eventkv/core';
import { createDurableObjectEventStore } from '@eventkv/durable-object';
import { LIVE_SUBPROTOCOL } from '@eventkv/sync';
import { describe, expect, it } from 'vitest';
import { createApp, type Env } from '../src/index';
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

// The live push routes (`GET .../streams/{type}/{id}/live`, `GET .../log/live`): sockets
// authenticated as the reads are, pushing events from the objects under both routings.

const ROUTINGS = [
  ['stream', send],
  ['database', sendDatabaseRouted],
] as const;

interface Opened {
  readonly status: number;
  readonly protocol: string | null;
  readonly socket: WebSocket | null;
  readonly events: RecordedEvent[];
  readonly body: unknown;
  received(count: number): Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
}

const open = async (
  db: string,
  path: string,
  options: {
    claims?: TokenClaims;
    protocols?: (token: string) => string[];
    via?: (request: Request) => Promise<Response>;
    upgrade?: boolean;
    headers?: Record<string, string>;
    ack?: boolean;
    point?: 'version' | 'position';
  } = {},
): Promise<Opened> => {
  const token = await tokenFor(db, options.claims);
  const protocols = options.protocols?.(token) ?? [PUSH_SUBPROTOCOL, `bearer.${token}`];
  const res = await (options.via ?? send)(
    new Request(`${ORIGIN}/v1/${db}${path}`, {
      headers: {
        // Without the upgrade the token is read from the Authorization header only.
        ...(options.upgrade === false
          ? { Authorization: `Bearer ${token}` }
          : { Upgrade: 'websocket' }),
        'Sec-WebSocket-Protocol': protocols.join(', '),
        ...options.headers,
      },
    }),
  );
  const events: RecordedEvent[] = [];
  const socket = res.webSocket;
  const accepted = acceptSocket(
    socket,
    () => events.length,
    (data, ws) => {
      const batch = (fromWire(data) as { events: RecordedEvent[] }).events;
      events.push(...batch);
      const to = batch.at(-1)?.[options.point ?? 'version'];
      if (options.ack !== false) ws.send(JSON.stringify({ type: 'ack', to }));
    },
  );
  const body: unknown = socket ? undefined : await res.json();
  return {
    status: res.status,
    protocol: res.headers.get('Sec-WebSocket-Protocol'),
    socket,
    events,
    body,
    ...accepted,
  };
};

const deposit = (amount: number) => ({ type: 'Deposited', data: { amount } });
const appendTo = (db: string, id: string, amounts: number[], via = send) =>
  api(db, 'POST', `/streams/Account/${id}/events`, {
    body: { events: amounts.map(deposit) },
    via,
  });
const code = (o: Opened) => (o.body as { error: { code: string } }).error.code;
const amounts = (events: RecordedEvent[]) =>
  events.map((e) => (e.data as { amount: number }).amount);

describe.each(ROUTINGS)("live push over the Worker, '%s' routing", (_routing, via) => {
  it('pushes a stream from ?from=, then its appends, in order and once each', async () => {
    const db = freshDatabase();
    await appendTo(db, 'a', [1, 2], via);
    const live = await open(db, '/streams/Account/a/live?from=1', { via });
    expect(live.status).toBe(101);
    expect(live.protocol).toBe(PUSH_SUBPROTOCOL);
    await live.received(2);
    await appendTo(db, 'a', [3], via);
    await appendTo(db, 'b', [100], via);
    await appendTo(db, 'a', [4, 5], via);
    await live.received(5);
    expect(amounts(live.events)).toEqual([1, 2, 3, 4, 5]);
    expect(live.events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
    live.socket?.close(1000, 'done');
  });

  it('pushes the log from ?after=, every stream of the database', async () => {
    const db = freshDatabase();
    await appendTo(db, 'a', [1], via);
    const live = await open(db, '/log/live?after=0', { via, point: 'position' });
    expect(live.status).toBe(101);
    await live.received(1);
    await appendTo(db, 'b', [2], via);
    await appendTo(db, 'a', [3], via);
    await live.received(3);
    expect(amounts(live.events)).toEqual([1, 2, 3]);
    expect(live.events.map((e) => e.position)).toEqual([1, 2, 3]);
    live.socket?.close(1000, 'done');
  });

  it('drops a slow consumer with the last point it acknowledged, and resumes it without a skip or a repeat', async () => {
    const db = freshDatabase();
    const slow = await open(db, '/streams/Account/a/live?from=1&buffer=2', { via, ack: false });
    await appendTo(db, 'a', [1], via);
    await slow.received(1);
    await appendTo(db, 'a', [2, 3, 4], via);
    const closed = await slow.closed;
    expect(closed.code).toBe(PUSH_CLOSE_SLOW_CONSUMER);
    const { acked } = JSON.parse(closed.reason) as { acked: number };
    expect(acked).toBe(0);
    const resumed = await open(db, `/streams/Account/a/live?from=${acked + 1}&buffer=2`, { via });
    await resumed.received(4);
    expect(amounts(resumed.events)).toEqual([1, 2, 3, 4]);
    resumed.socket?.close(1000, 'done');
  });
});

describe('the live push routes', () => {
  it('close the socket once its token has expired, before sending anything more', async () => {
    const db = freshDatabase();
    // Two seconds (a token's exp is in seconds): room to open the socket on a slow machine.
    const exp = Math.floor(Date.now() / 1000) + 2;
    const live = await open(db, '/streams/Account/a/live?from=1', { claims: { exp } });
    expect(live.status).toBe(101);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp * 1000 - Date.now()) + 100));
    await appendTo(db, 'a', [1]);
    expect((await live.closed).code).toBe(PUSH_CLOSE_TOKEN_EXPIRED);
    expect(live.events).toEqual([]);
  });

  it('close an idle socket at its token expiry, without waiting for an event', async () => {
    const db = freshDatabase();
    await appendTo(db, 'a', [1]);
    const exp = Math.floor(Date.now() / 1000) + 2;
    const live = await open(db, '/streams/Account/a/live?from=1', { claims: { exp } });
    await live.received(1);
    // Nothing is appended from here on: the object's alarm closes the socket.
    expect((await live.closed).code).toBe(PUSH_CLOSE_TOKEN_EXPIRED);
    expect(amounts(live.events)).toEqual([1]);
  });

  it("trust no subscription or principal of the client's own: only what the Worker verified reaches the object", async () => {
    const db = freshDatabase();
    await appendTo(db, 'a', [1]);
    const exp = Math.floor(Date.now() / 1000) + 2;
    // A push subscription that would outlive the token, sent to the push route...
    const forged = {
      'X-EventKV-Push': JSON.stringify({
        kind: 'stream',
        ref: { database: db, type: 'Account', id: 'a' },
        from: 1,
        expiresAt: Date.now() + 3_600_000,
      }),
    };
    const pushed = await open(db, '/streams/Account/a/live?from=1', {
      claims: { exp },
      headers: forged,
    });
    await pushed.received(1);
    expect((await pushed.closed).code).toBe(PUSH_CLOSE_TOKEN_EXPIRED);
    // ...and to the sync route, whose object would take it for a push socket.
    const token = await tokenFor(db, { sub: 'ann' });
    const res = await send(
      new Request(`${ORIGIN}/v1/${db}/sync/live`, {
        headers: {
          Upgrade: 'websocket',
          'Sec-WebSocket-Protocol': `${LIVE_SUBPROTOCOL}, bearer.${token}`,
          ...forged,
        },
      }),
    );
    expect(res.status).toBe(101);
    expect(res.headers.get('Sec-WebSocket-Protocol')).toBe(LIVE_SUBPROTOCOL);
    const messages: string[] = [];
    const sync = acceptSocket(
      res.webSocket,
      () => messages.length,
      (data) => messages.push(data),
    );
    await sync.received(1);
    expect(messages[0]).toBe('{"type":"poke"}');
    res.webSocket?.close(1000, 'done');
  });

  it('refuse a missing, foreign or expired token, a missing subprotocol, a plain GET and bad points', async () => {
    const db = freshDatabase();
    const path = '/streams/Account/a/live?from=1';

    const noToken = await open(db, path, { protocols: () => [PUSH_SUBPROTOCOL] });
    expect([noToken.status, code(noToken)]).toEqual([401, 'UNAUTHORIZED']);
    const foreign = await open(db, path, { claims: { db: freshDatabase() } });
    expect([foreign.status, code(foreign)]).toEqual([403, 'FORBIDDEN']);
    const expired = await open(db, path, { claims: { exp: Math.floor(Date.now() / 1000) - 10 } });
    expect(expired.status).toBe(401);
    const noProtocol = await open(db, path, { protocols: (token) => [`bearer.${token}`] });
    expect(noProtocol.status).toBe(400);
    const plain = await open(db, path, { upgrade: false });
    expect(plain.status).toBe(400);
    const otherUpgrade = await open(db, path, { upgrade: false, headers: { Upgrade: 'h2c' } });
    expect([otherUpgrade.status, code(otherUpgrade)]).toEqual([400, 'INVALID_ARGUMENT']);
    for (const bad of [
      '/streams/Account/a/live',
      '/streams/Account/a/live?from=0',
      '/streams/Account/a/live?from=',
      '/streams/Account/a/live?from=-1',
      '/streams/Account/a/live?from=1.5',
      '/streams/Account/a/live?from=1e3',
      '/streams/Account/a/live?from=0x10',
      '/streams/Account/a/live?from=one',
      '/streams/Account/a/live?from=%201',
      `/streams/Account/a/live?from=${2 ** 53}`,
      '/streams/Account/a/live?from=99999999999999999999',
      '/streams/Account/a/live?from=1&from=2',
      '/streams/Account/a/live?from=1&buffer=0',
      '/streams/Account/a/live?from=1&buffer=2.5',
      '/streams/Account/a/live?from=1&buffer=1001',
      '/streams/Account/a/live?from=1&after=2',
      '/log/live',
      '/log/live?after=-1',
      '/log/live?after=1.5',
      `/log/live?after=${2 ** 53}`,
      '/log/live?after=0&from=1',
      // A stream name past the names' limit (256 characters): refused by the object.
      `/streams/Account/${'x'.repeat(257)}/live?from=1`,
    ]) {
      const refused = await open(db, bad);
      expect([bad, refused.status, code(refused)]).toEqual([bad, 400, 'INVALID_ARGUMENT']);
    }
  });

  it('accept the largest points there are: the socket waits for the stream or the log to get there', async () => {
    const db = freshDatabase();
    for (const path of [
      `/streams/Account/a/live?from=${Number.MAX_SAFE_INTEGER}`,
      `/log/live?after=${Number.MAX_SAFE_INTEGER}`,
    ]) {
      const live = await open(db, path);
      expect(live.status, path).toBe(101);
      live.socket?.close(1000, 'done');
    }
  });

  it('answer 503 STORAGE_FAILURE (retryable) when the object holds its most push sockets', async () => {
    const db = freshDatabase();
    const busy = createApp({
      storeFor: (_database, bindings) =>
        createDurableObjectEventStore(bindings.EVENT_STORE, { routing: 'database' }),
      // As an object at MAX_PUSH_SOCKETS answers (test/live-push.test.ts in durable-object).
      liveFor: () => ({
        open: async () =>
          new Response('the object already holds 1000 push sockets', { status: 503 }),
      }),
    });
    const refused = await open(db, '/log/live?after=0', {
      via: async (request) => busy.fetch(request, env as unknown as Env),
    });
    expect([refused.status, code(refused)]).toEqual([503, 'STORAGE_FAILURE']);
  });

  it('answer 404 where the app has no push sockets', async () => {
    const db = freshDatabase();
    const app = createApp({
      storeFor: (_database, bindings) =>
        createDurableObjectEventStore(bindings.EVENT_STORE, { routing: 'database' }),
      liveFor: () => undefined,
    });
    const none = await open(db, '/log/live?after=0', {
      via: async (request) => app.fetch(request, env as unknown as Env),
    });
    expect(none.status).toBe(404);
  });
});
