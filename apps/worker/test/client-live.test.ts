import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { createHttpEventStore, toWire } from '@eventkv/client';
import { PUSH_CLOSE_SLOW_CONSUMER, type RecordedEvent } from '@eventkv/core';
import { createDurableObjectEventStore, streamObjectName } from '@eventkv/durable-object';
import { describe, expect, it } from 'vitest';
import { createApp, type Env } from '../src/index';
import { freshDatabase, ORIGIN, send, sendDatabaseRouted, tokenFor } from './helpers';
import { type SocketLog, socketsVia, type WorkerSocket } from './push-socket';

// `@eventkv/client`'s subscriptions against the Worker: pushed over its live sockets, in
// order and once each across drops, restarted objects and slow-consumer closes, and by
// long-poll where no socket opens.

const noSockets = createApp({
  storeFor: (_database, bindings) =>
    createDurableObjectEventStore(bindings.EVENT_STORE, { routing: 'stream' }),
  liveFor: () => undefined,
});
const sendNoSockets = async (request: Request) => noSockets.fetch(request, env as unknown as Env);

const clientOf = async (
  db: string,
  via: (request: Request) => Promise<Response>,
  live: { buffer?: number; socketFailuresBeforePolling?: number } = {},
) => {
  const log: SocketLog = { urls: [], closes: [], open: [] };
  const store = createHttpEventStore(ORIGIN, {
    token: await tokenFor(db),
    fetch: via,
    WebSocket: socketsVia(via, log),
    live: { backoff: { baseDelayMs: 10, maxDelayMs: 50 }, ...live },
  });
  return { store, log };
};

/** Collects what a listener receives; `until(n)` resolves at the n-th event. */
const collector = (point: 'version' | 'position' = 'version') => {
  const events: RecordedEvent[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    events,
    points: () => events.map((e) => e[point]),
    listener: (batch: RecordedEvent[]) => {
      events.push(...batch);
      for (const w of waiters.filter((w) => events.length >= w.n)) w.resolve();
    },
    until: (n: number) =>
      events.length >= n
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ n, resolve })),
  };
};

const deposit = (amount: number) => ({ type: 'Deposited', data: { amount } });
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const ROUTINGS = [
  ['stream', send],
  ['database', sendDatabaseRouted],
] as const;

describe.each(ROUTINGS)("the client's subscriptions, '%s' routing", (_routing, via) => {
  it('stream.subscribe is pushed over a socket, in order, each event once across a dropped connection', async () => {
    const db = freshDatabase();
    const { store, log } = await clientOf(db, via);
    const stream = store.stream({ type: 'Account', id: 'a' });
    await stream.append([deposit(1), deposit(2)]);
    const got = collector();
    const stop = stream.subscribe(got.listener, { from: 1 });
    await got.until(2);
    expect(log.urls[0]).toBe(`wss://eventkv.test/v1/${db}/streams/Account/a/live?from=1`);
    (log.open[0] as WorkerSocket).kill();
    await stream.append(deposit(3));
    await stream.append([deposit(4), deposit(5)]);
    await got.until(5);
    expect(got.points()).toEqual(range(1, 5));
    expect(log.urls.at(-1)).toMatch(/\?from=3$/);
    stop();
  });

  it('store.subscribeLog is pushed over a socket, every stream of the database, each event once', async () => {
    const db = freshDatabase();
    const { store, log } = await clientOf(db, via);
    await store.stream({ type: 'Account', id: 'a' }).append(deposit(1));
    const got = collector('position');
    const stop = store.subscribeLog(got.listener, { after: 0 });
    await got.until(1);
    await store.stream({ type: 'Account', id: 'b' }).append(deposit(2));
    (log.open[0] as WorkerSocket).kill();
    await store.stream({ type: 'Account', id: 'a' }).append(deposit(3));
    await got.until(3);
    expect(got.points()).toEqual([1, 2, 3]);
    expect(got.events.map((e) => (e.data as { amount: number }).amount)).toEqual([1, 2, 3]);
    expect(log.urls[0]).toMatch(/\/log\/live\?after=0$/);
    stop();
  });

  it('a slow consumer is dropped by the server and resumes where it was', async () => {
    const db = freshDatabase();
    const { store, log } = await clientOf(db, via, { buffer: 2 });
    const stream = store.stream({ type: 'Account', id: 'a' });
    const got = collector();
    const stop = stream.subscribe(got.listener, { from: 1 });
    await stream.append(deposit(1));
    await got.until(1);
    // One append of more events than the buffer: the server drops the socket it was
    // pushing to (4002), and the client replays the rest at its pace.
    await stream.append(range(2, 9).map((n) => deposit(n)));
    await got.until(9);
    expect(got.points()).toEqual(range(1, 9));
    expect(log.closes).toContain(PUSH_CLOSE_SLOW_CONSUMER);
    stop();
  });
});

describe("the client's subscriptions", () => {
  it('resume after the object restarts', async () => {
    const db = freshDatabase();
    const { store, log } = await clientOf(db, send);
    const ref = { database: db, type: 'Account', id: 'a' };
    const stream = store.stream(ref);
    const got = collector();
    const stop = stream.subscribe(got.listener, { from: 1 });
    await stream.append(deposit(1));
    await got.until(1);
    const opened = log.open.length;
    await runInDurableObject(
      env.EVENT_STORE.get(env.EVENT_STORE.idFromName(streamObjectName(ref))),
      (_instance, state) => state.abort('restart'),
    ).catch(() => {});
    await stream.append(deposit(2));
    await got.until(2);
    expect(got.points()).toEqual([1, 2]);
    expect(log.open.length).toBeGreaterThan(opened);
    stop();
  });

  it('long-poll where no socket opens, without a skip or a repeat', async () => {
    const db = freshDatabase();
    const { store, log } = await clientOf(db, sendNoSockets, { socketFailuresBeforePolling: 1 });
    const stream = store.stream({ type: 'Account', id: 'a' });
    await stream.append(deposit(1));
    const got = collector();
    const stop = stream.subscribe(got.listener, { from: 1 });
    await got.until(1);
    await stream.append([deposit(2), deposit(3)]);
    await got.until(3);
    expect(got.points()).toEqual([1, 2, 3]);
    expect(log.open).toHaveLength(0);
    expect(log.closes[0]).toBe(1006);
    stop();
  });

  it('the socket carries events as wire JSON: Dates and BigInt arrive as they were appended', async () => {
    const db = freshDatabase();
    const { store } = await clientOf(db, send);
    const stream = store.stream({ type: 'Account', id: 'a' });
    const got = collector();
    const stop = stream.subscribe(got.listener, { from: 1 });
    await stream.append({ type: 'Opened', data: { at: new Date(5), limit: 2n ** 70n } });
    await got.until(1);
    expect(got.events[0]?.data).toEqual({ at: new Date(5), limit: 2n ** 70n });
    expect(toWire(got.events[0]?.data)).toContain('$date');
    stop();
  });
});
