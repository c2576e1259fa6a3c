import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import {
  fromWireJson,
  PUSH_CLOSE_PROTOCOL,
  PUSH_CLOSE_SLOW_CONSUMER,
  PUSH_CLOSE_TOKEN_EXPIRED,
  PUSH_SUBPROTOCOL,
  type RecordedEvent,
  type StreamId,
} from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  databaseObjectName,
  type EventStoreObjectNamespace,
  MAX_PUSH_SOCKETS,
  type PushSubscription,
  pushSockets,
  type Routing,
  streamObjectName,
} from '../src/index.js';
import { type BankEvent, deposit } from './helpers.js';
import { type FlakyFeedObject, TestStoreObject } from './worker.js';

// Live push from the objects (the protocol: push-protocol.ts in core): sockets accepted with
// the hibernation API, pushing a stream from its object and the log from the database's
// object (the feed under 'stream' routing), with a bounded buffer per socket.

const HOUR = 3_600_000;
const storeOf = (database: string, routing: Routing) =>
  createDurableObjectEventStore<BankEvent>(env.STORE, { routing, database });
const fresh = (): StreamId => ({
  database: `push-${crypto.randomUUID()}`,
  type: 'Account',
  id: crypto.randomUUID(),
});

/** A push socket opened on the object, recording the batches it receives. */
interface Subscriber {
  readonly socket: WebSocket;
  readonly batches: RecordedEvent[][];
  /** The points received (versions of a stream, positions of a log), in order. */
  points(): number[];
  /** Resolves once `count` events have arrived. */
  received(count: number): Promise<void>;
  ack(to: number): void;
  readonly closed: Promise<{ code: number; reason: string }>;
}

const subscribe = async (
  routing: Routing,
  subscription: PushSubscription,
  options: { ack?: boolean; namespace?: EventStoreObjectNamespace } = {},
): Promise<Subscriber> => {
  const res = await pushSockets(options.namespace ?? env.STORE, routing).open(
    subscription,
    new Request('https://eventkv.test/live', { headers: { Upgrade: 'websocket' } }),
  );
  if (res.status !== 101) throw new Error(`${res.status}: ${await res.text()}`);
  expect(res.headers.get('Sec-WebSocket-Protocol')).toBe(PUSH_SUBPROTOCOL);
  const socket = res.webSocket as WebSocket;
  socket.accept();
  const point = subscription.kind === 'stream' ? 'version' : 'position';
  const batches: RecordedEvent[][] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const count = () => batches.reduce((n, b) => n + b.length, 0);
  socket.addEventListener('message', (event) => {
    if (event.data === 'pong') return;
    const message = fromWireJson(String(event.data)) as { type: string; events: RecordedEvent[] };
    expect(message.type).toBe('events');
    batches.push(message.events);
    // As the client does: each batch acknowledged once processed.
    if (options.ack !== false) {
      socket.send(JSON.stringify({ type: 'ack', to: message.events.at(-1)?.[point] }));
    }
    for (const waiter of waiters.filter((w) => count() >= w.count)) waiter.resolve();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.addEventListener('close', (event) =>
      resolve({ code: event.code, reason: event.reason }),
    ),
  );
  return {
    socket,
    batches,
    points: () => batches.flat().map((e) => e[point] as number),
    received: (n) =>
      count() >= n
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count: n, resolve })),
    ack: (to) => socket.send(JSON.stringify({ type: 'ack', to })),
    closed,
  };
};

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.each(['stream', 'database'] as const)("live push, '%s' routing", (routing) => {
  it('pushes a stream from the version asked for, then each append, in order', async () => {
    const ref = fresh();
    const store = storeOf(ref.database, routing);
    await store.stream(ref).append([deposit(1), deposit(2), deposit(3)]);
    const live = await subscribe(routing, {
      kind: 'stream',
      ref,
      from: 2,
      expiresAt: Date.now() + HOUR,
    });
    await live.received(2);
    await store.stream(ref).append(deposit(4));
    await store.stream(ref).append([deposit(5), deposit(6)]);
    // Another stream of the same database is not this socket's.
    await store.stream({ ...ref, id: 'other' }).append(deposit(99));
    await live.received(5);
    await store.stream(ref).append(deposit(7));
    await live.received(6);
    expect(live.points()).toEqual(range(2, 7));
    expect(live.batches.flat().map((e) => (e.data as { amount: number }).amount)).toEqual(
      range(2, 7),
    );
    live.socket.close(1000, 'done');
  });

  it("pushes the database's log after a position, every stream's appends included", async () => {
    const ref = fresh();
    const store = storeOf(ref.database, routing);
    await store.stream(ref).append([deposit(1), deposit(2)]);
    // Under 'stream' routing the feed holds the log: wait until it has these two.
    expect((await store.readLog({ after: 0 })).events).toHaveLength(2);
    const live = await subscribe(routing, {
      kind: 'log',
      database: ref.database,
      after: 1,
      expiresAt: Date.now() + HOUR,
    });
    await live.received(1);
    await store.stream({ ...ref, id: 'b' }).append(deposit(3));
    await store.stream(ref).append(deposit(4));
    await live.received(3);
    expect(live.points()).toEqual([2, 3, 4]);
    expect(live.batches.flat().map((e) => (e.data as { amount: number }).amount)).toEqual([
      2, 3, 4,
    ]);
    live.socket.close(1000, 'done');
  });

  it('closes an idle socket when its token expires, without waiting for an event', async () => {
    const ref = fresh();
    // Under 'stream' routing the append arms the feed delivery's safety net on the same alarm.
    await storeOf(ref.database, routing).stream(ref).append(deposit(1));
    // Two seconds: room to open the socket and push the first event on a loaded machine.
    const live = await subscribe(routing, {
      kind: 'stream',
      ref,
      from: 1,
      expiresAt: Date.now() + 2_000,
    });
    await live.received(1);
    // Nothing is appended from here on: the object's alarm closes the socket at its expiry.
    expect((await live.closed).code).toBe(PUSH_CLOSE_TOKEN_EXPIRED);
    expect(live.points()).toEqual([1]);
  });
});

describe('the buffer of a push socket', () => {
  it('replays history no faster than the client acknowledges it', async () => {
    const ref = fresh();
    const store = storeOf(ref.database, 'stream');
    await store.stream(ref).append(range(1, 5).map((n) => deposit(n)));
    const live = await subscribe(
      'stream',
      { kind: 'stream', ref, from: 1, expiresAt: Date.now() + HOUR, buffer: 2 },
      { ack: false },
    );
    await live.received(2);
    // Another event stored meanwhile: still replay, so the client is not dropped.
    await store.stream(ref).append(deposit(6));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(live.points()).toEqual([1, 2]);
    live.ack(2);
    await live.received(4);
    expect(live.points()).toEqual([1, 2, 3, 4]);
    live.ack(3); // in part: the batch [3, 4] stays in the buffer until 4 is acknowledged
    live.ack(4);
    await live.received(6);
    expect(live.points()).toEqual(range(1, 6));
    live.socket.close(1000, 'done');
  });

  it('drops a caught-up consumer that falls a full buffer behind, naming what it acknowledged; it resumes from there', async () => {
    const ref = fresh();
    const store = storeOf(ref.database, 'database');
    await store.stream(ref).append([deposit(1), deposit(2)]);
    const slow = await subscribe(
      'database',
      { kind: 'stream', ref, from: 1, expiresAt: Date.now() + HOUR, buffer: 3 },
      { ack: false },
    );
    await slow.received(2);
    slow.ack(1);
    await store.stream(ref).append(range(3, 6).map((n) => deposit(n)));
    const closed = await slow.closed;
    expect(closed.code).toBe(PUSH_CLOSE_SLOW_CONSUMER);
    expect(JSON.parse(closed.reason)).toEqual({ acked: 1 });
    // Never more than the buffer in flight: a batch is freed by its last point, so [1, 2]
    // (acknowledged in part) and [3] fill it.
    expect(slow.points()).toEqual([1, 2, 3]);

    const resumed = await subscribe('database', {
      kind: 'stream',
      ref,
      from: JSON.parse(closed.reason).acked + 1,
      expiresAt: Date.now() + HOUR,
      buffer: 3,
    });
    await resumed.received(5);
    expect(resumed.points()).toEqual(range(2, 6));
    resumed.socket.close(1000, 'done');
  });

  it('keeps its state in the attachment: an object woken from hibernation goes on where it was', async () => {
    const ref = fresh();
    const store = storeOf(ref.database, 'stream');
    await store.stream(ref).append(range(1, 4).map((n) => deposit(n)));
    const live = await subscribe(
      'stream',
      { kind: 'stream', ref, from: 1, expiresAt: Date.now() + HOUR, buffer: 2 },
      { ack: false },
    );
    await live.received(2);
    const stub = env.STORE.get(env.STORE.idFromName(streamObjectName(ref)));
    // What the runtime does after hibernation: a new instance of the class over the same
    // state and sockets, with nothing in memory, is handed the socket's next message.
    await runInDurableObject(stub, async (_instance, state) => {
      const woken = new TestStoreObject(state, env as never);
      const [server] = state.getWebSockets('push');
      woken.webSocketMessage(server as WebSocket, JSON.stringify({ type: 'ack', to: 2 }));
    });
    await live.received(4);
    expect(live.points()).toEqual(range(1, 4));
    live.socket.close(1000, 'done');
  });
});

describe('a push socket', () => {
  it('is closed, with the code to reconnect, once its token has expired', async () => {
    const ref = fresh();
    const store = storeOf(ref.database, 'stream');
    const expiresAt = Date.now() + 200;
    const live = await subscribe('stream', { kind: 'stream', ref, from: 1, expiresAt });
    // Past the expiry (however slowly the socket opened), an append finds it expired.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 50));
    await store.stream(ref).append(deposit(1));
    expect((await live.closed).code).toBe(PUSH_CLOSE_TOKEN_EXPIRED);
    expect(live.points()).toEqual([]);
  });

  it('takes no message once its token has expired, even before the alarm closes it', async () => {
    const ref = fresh();
    await storeOf(ref.database, 'stream').stream(ref).append(deposit(1));
    const expiresAt = Date.now() + 2_000;
    const live = await subscribe('stream', { kind: 'stream', ref, from: 1, expiresAt });
    await live.received(1);
    // The alarm that would close it at its expiry is taken away (as if the feed's delivery
    // had moved it later), so only the message itself can find the token expired.
    const stub = env.STORE.get(env.STORE.idFromName(streamObjectName(ref)));
    await runInDurableObject(stub, (_instance, state) => state.storage.deleteAlarm());
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 50));
    live.ack(1); // acknowledged already: it frees nothing, so no send follows it
    expect((await live.closed).code).toBe(PUSH_CLOSE_TOKEN_EXPIRED);
  });

  it('survives a restarted object: the client reconnects from the last version it processed', async () => {
    const ref = fresh();
    const store = storeOf(ref.database, 'stream');
    await store.stream(ref).append([deposit(1), deposit(2)]);
    const first = await subscribe('stream', {
      kind: 'stream',
      ref,
      from: 1,
      expiresAt: Date.now() + HOUR,
    });
    await first.received(2);
    const stub = env.STORE.get(env.STORE.idFromName(streamObjectName(ref)));
    await runInDurableObject(stub, (_instance, state) => {
      state.abort('restart');
    }).catch(() => {});
    await first.closed;
    await store.stream(ref).append(deposit(3));
    const last = first.points().at(-1) as number;
    const second = await subscribe('stream', {
      kind: 'stream',
      ref,
      from: last + 1,
      expiresAt: Date.now() + HOUR,
    });
    await second.received(1);
    expect([...first.points(), ...second.points()]).toEqual([1, 2, 3]);
    second.socket.close(1000, 'done');
  });

  it('answers ping with pong, and closes on anything but an ack of what it sent', async () => {
    const ref = fresh();
    await storeOf(ref.database, 'stream').stream(ref).append(deposit(1));
    const live = await subscribe(
      'stream',
      { kind: 'stream', ref, from: 1, expiresAt: Date.now() + HOUR },
      { ack: false },
    );
    await live.received(1);
    const pong = new Promise((resolve) =>
      live.socket.addEventListener('message', (event) => {
        if (event.data === 'pong') resolve(event.data);
      }),
    );
    live.socket.send('ping');
    expect(await pong).toBe('pong');
    live.ack(2); // beyond what was sent
    expect((await live.closed).code).toBe(PUSH_CLOSE_PROTOCOL);
  });

  it('is refused by an object that does not hold what it follows', async () => {
    const ref = fresh();
    const wrong = env.STORE.get(env.STORE.idFromName(databaseObjectName('elsewhere')));
    const res = await wrong.fetch(
      new Request('https://eventkv.test/live', {
        headers: {
          Upgrade: 'websocket',
          'X-EventKV-Push': JSON.stringify({
            kind: 'stream',
            ref,
            from: 1,
            expiresAt: Date.now() + HOUR,
          }),
        },
      }),
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/does not live in the object/);
    const right = env.STORE.get(env.STORE.idFromName(streamObjectName(ref)));
    const good = { kind: 'stream', ref, from: 1, expiresAt: Date.now() + HOUR };
    const refusals: [string, Record<string, string>][] = [
      ['no kind', { 'X-EventKV-Push': '{"kind":"log"}' }],
      ['not JSON', { 'X-EventKV-Push': '{kind' }],
      ['JSON null', { 'X-EventKV-Push': 'null' }],
      ['from 0', { 'X-EventKV-Push': JSON.stringify({ ...good, from: 0 }) }],
      ['from 1.5', { 'X-EventKV-Push': JSON.stringify({ ...good, from: 1.5 }) }],
      ['from "1"', { 'X-EventKV-Push': JSON.stringify({ ...good, from: '1' }) }],
      ['buffer 0', { 'X-EventKV-Push': JSON.stringify({ ...good, buffer: 0 }) }],
      ['no expiry', { 'X-EventKV-Push': JSON.stringify({ ...good, expiresAt: undefined }) }],
      ['no name', { 'X-EventKV-Push': JSON.stringify({ ...good, ref: { ...ref, id: '' } }) }],
    ];
    for (const [what, headers] of refusals) {
      const res = await right.fetch(
        new Request('https://eventkv.test/live', { headers: { Upgrade: 'websocket', ...headers } }),
      );
      expect([what, res.status]).toEqual([what, 400]);
    }
    // Not an upgrade: refused before anything is looked at.
    const plain = await right.fetch(
      new Request('https://eventkv.test/live', {
        headers: { 'X-EventKV-Push': JSON.stringify(good) },
      }),
    );
    expect(plain.status).toBe(400);
    expect(await plain.text()).toMatch(/WebSocket/);
  });
});

describe('the expiry of push sockets', () => {
  it("shares the object's alarm with the feed delivery: neither delays the other", async () => {
    const database = `push-${crypto.randomUUID()}`;
    const ref: StreamId = { database, type: 'Account', id: 'a' };
    const store = createDurableObjectEventStore<BankEvent>(env.FLAKY, {
      routing: 'stream',
      database,
    });
    const object = env.FLAKY.get(env.FLAKY.idFromName(streamObjectName(ref)));
    const feed = env.FLAKY.get(env.FLAKY.idFromName(databaseObjectName(database)));
    const setDown = (down: boolean) =>
      runInDurableObject(feed, (instance: FlakyFeedObject) => {
        instance.down = down;
      });
    const alarm = () => runInDurableObject(object, (_instance, state) => state.storage.getAlarm());
    // The scheduled alarm, run now as the runtime runs it (cleared, then the handler).
    const fireAlarm = async () => expect(await runDurableObjectAlarm(object)).toBe(true);

    await setDown(true);
    await store.stream(ref).append(deposit(1)); // not delivered: the alarm retries it
    const expiresAt = Date.now() + HOUR;
    const live = await subscribe(
      'stream',
      { kind: 'stream', ref, from: 1, expiresAt },
      { namespace: env.FLAKY },
    );
    await live.received(1);
    // The socket's later expiry leaves the delivery's retry where it was.
    expect(await alarm()).toBeLessThan(expiresAt);
    await fireAlarm(); // the feed is still down: the delivery re-arms its backoff
    expect(await alarm()).toBeLessThan(expiresAt);
    await setDown(false);
    await fireAlarm(); // delivered: nothing is owed, and the alarm is the socket's expiry again
    expect(await alarm()).toBe(expiresAt);
    expect((await store.readLog()).events.map((e) => e.version)).toEqual([1]);
    live.socket.close(1000, 'done');
  });

  it("arms the delivery's safety net no later than a socket's expiry, which the same alarm closes", async () => {
    const database = `push-${crypto.randomUUID()}`;
    const ref: StreamId = { database, type: 'Account', id: 'a' };
    const store = createDurableObjectEventStore<BankEvent>(env.FLAKY, {
      routing: 'stream',
      database,
    });
    const object = env.FLAKY.get(env.FLAKY.idFromName(streamObjectName(ref)));
    const alarm = () => runInDurableObject(object, (_instance, state) => state.storage.getAlarm());
    // A socket on a stream without events: its expiry is the only alarm so far.
    const expiresAt = Date.now() + HOUR;
    const live = await subscribe(
      'stream',
      { kind: 'stream', ref, from: 1, expiresAt },
      { namespace: env.FLAKY },
    );
    expect(await alarm()).toBe(expiresAt);
    // The object's first append arms the delivery's safety net (5 s after it), which an
    // earlier expiry bounds; the feed's first answer then leaves it where it is.
    const soon = Date.now() + 2_000;
    await runInDurableObject(object, (_instance, state) => {
      for (const socket of state.getWebSockets())
        socket.serializeAttachment({ ...socket.deserializeAttachment(), expiresAt: soon });
    });
    await store.stream(ref).append(deposit(1));
    await live.received(1);
    expect(await alarm()).toBeLessThanOrEqual(soon);
    expect((await live.closed).code).toBe(PUSH_CLOSE_TOKEN_EXPIRED);
  });
});

describe('what a client may send on a push socket', () => {
  it('closes with 1003 on acks that are not points, go backwards or past what was sent, and on binary, unknown or oversized frames', async () => {
    const ref = fresh();
    const store = storeOf(ref.database, 'stream');
    await store.stream(ref).append([deposit(1), deposit(2), deposit(3)]);
    const open = async () => {
      const live = await subscribe(
        'stream',
        { kind: 'stream', ref, from: 1, expiresAt: Date.now() + HOUR },
        { ack: false },
      );
      await live.received(3);
      return live;
    };
    const ack = (to: unknown) => JSON.stringify({ type: 'ack', to });
    const bad: [string, (string | ArrayBuffer)[]][] = [
      ['a string', [ack('3')]],
      ['a fraction', [ack(1.5)]],
      ['a negative', [ack(-1)]],
      ['no point', ['{"type":"ack"}']],
      ['past what was sent', [ack(4)]],
      ['backwards', [ack(2), ack(1)]],
      ['a huge point', [ack(2 ** 60)]],
      ['binary', [new Uint8Array([123, 125]).buffer as ArrayBuffer]],
      ['another type', ['{"type":"subscribe","to":3}']],
      ['not JSON', ['hello']],
      ['JSON null', ['null']],
      // A valid ack, padded past any ack's length: refused without being parsed.
      ['oversized', [`{"type":"ack","to":3,"pad":"${'x'.repeat(100_000)}"}`]],
    ];
    for (const [what, messages] of bad) {
      const live = await open();
      for (const message of messages) live.socket.send(message);
      expect((await live.closed).code, what).toBe(PUSH_CLOSE_PROTOCOL);
    }
    // What is allowed: the same ack twice, then a later one, then pings.
    const live = await open();
    live.socket.send(ack(2));
    live.socket.send(ack(2));
    live.socket.send(ack(3));
    live.socket.send('ping');
    await store.stream(ref).append(deposit(4));
    await live.received(4);
    expect(live.points()).toEqual([1, 2, 3, 4]);
    live.socket.close(1000, 'done');
  });
});

describe('the push sockets of one object', () => {
  it(`are at most MAX_PUSH_SOCKETS (${MAX_PUSH_SOCKETS}): the next is refused with 503, and one closed makes room`, async () => {
    const ref = fresh();
    const stub = env.STORE.get(env.STORE.idFromName(streamObjectName(ref)));
    const request = () =>
      new Request('https://eventkv.test/live', {
        headers: {
          Upgrade: 'websocket',
          'X-EventKV-Push': JSON.stringify({
            kind: 'stream',
            ref,
            from: 1,
            expiresAt: Date.now() + HOUR,
          }),
        },
      });
    // Opened inside the object (its own fetch): a thousand round trips would be slow.
    const clients = await runInDurableObject(stub, async (instance: TestStoreObject) => {
      const opened: WebSocket[] = [];
      for (let i = 0; i < MAX_PUSH_SOCKETS; i++) {
        const res = await instance.fetch(request());
        expect(res.status).toBe(101);
        const client = res.webSocket as WebSocket;
        client.accept();
        opened.push(client);
      }
      return opened.length;
    });
    expect(clients).toBe(MAX_PUSH_SOCKETS);
    const refused = await stub.fetch(request());
    expect(refused.status).toBe(503);
    expect(await refused.text()).toMatch(/push sockets/);
    await runInDurableObject(stub, async (_instance, state) => {
      for (const socket of state.getWebSockets('push')) socket.close(1000, 'done');
    });
    const again = await stub.fetch(request());
    expect(again.status).toBe(101);
    (again.webSocket as WebSocket).accept();
    (again.webSocket as WebSocket).close(1000, 'done');
  });
});
