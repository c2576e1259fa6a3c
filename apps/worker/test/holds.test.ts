import { env } from 'cloudflare:workers';
import { createHttpEventStore, HOLDS_HEADER, MAX_HOLDS_LENGTH } from '@eventkv/client';
import type { RecordedEvent } from '@eventkv/core';
import { createDurableObjectEventStore } from '@eventkv/durable-object';
import { describe, expect, it } from 'vitest';
import { createApp, type Env } from '../src/index';
import { api, errorOf, freshDatabase, ORIGIN, send, sendDatabaseRouted, tokenFor } from './helpers';

// Read-your-writes across the Worker's instances. Under 'stream' routing the database-wide
// reads come from the feed, and an instance waits only for the appends it made itself; a
// caller whose append went through another instance names it in `Eventkv-Holds`, and the
// read waits until the feed holds it. Here the named version is ahead of the stream when
// the read starts, so the read can only answer with it by waiting for it.

const deposit = (n: number) => ({ events: [{ type: 'Deposited', data: { n } }] });
const seg = encodeURIComponent;
const eventsOf = (res: { body: unknown } | undefined): RecordedEvent[] =>
  (res?.body as { events?: RecordedEvent[] } | undefined)?.events ?? [];

describe.each([
  ['stream', send],
  ['database', sendDatabaseRouted],
] as const)('Eventkv-Holds (%s routing)', (routing, via) => {
  it('a read naming an append not made yet answers once it is, with it', async () => {
    const db = freshDatabase();
    const type = 'Ledger/EU';
    const id = 'ünï 1';
    const path = `/streams/${seg(type)}/${seg(id)}/events`;
    expect((await api(db, 'POST', path, { via, body: deposit(1) })).status).toBe(201);
    const holds = `${seg(type)}/${seg(id)}/2`;
    const reads = [
      api(db, 'GET', '/log', { via, headers: { [HOLDS_HEADER]: holds } }),
      api(db, 'GET', `/query/aggregateType/${seg(type)}`, {
        via,
        headers: { [HOLDS_HEADER]: holds },
      }),
      api(db, 'GET', '/log/position', { via, headers: { [HOLDS_HEADER]: holds } }),
    ];
    if (routing === 'database') {
      // One object holds streams and log alike: nothing to wait for.
      const [log] = await Promise.all(reads);
      expect(eventsOf(log)).toHaveLength(1);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await api(db, 'POST', path, { via, body: deposit(2) })).status).toBe(201);
    const [log, query, position] = await Promise.all(reads);
    expect(eventsOf(log).map((e) => e.version)).toEqual([1, 2]);
    expect(eventsOf(query)).toHaveLength(2);
    expect(position?.body).toEqual({ position: 2 });
  });

  it('a malformed header is 400 INVALID_ARGUMENT naming it, under either routing', async () => {
    const db = freshDatabase();
    for (const [value, field] of [
      ['Account/1', `${HOLDS_HEADER}[0]`],
      ['Account/1/0', `${HOLDS_HEADER}[0].version`],
      ['Account/1/1.5', `${HOLDS_HEADER}[0].version`],
      ['Account/1/2, Account/%E0%A4%A/1', `${HOLDS_HEADER}[1].id`],
      ['/1/1', `${HOLDS_HEADER}[0].type`],
      [Array.from({ length: 101 }, (_, i) => `A/${i}/1`).join(','), HOLDS_HEADER],
      [`A/${'i'.repeat(MAX_HOLDS_LENGTH)}/1`, HOLDS_HEADER],
    ] as const) {
      const res = await api(db, 'GET', '/log', { via, headers: { [HOLDS_HEADER]: value } });
      expect(res.status, value.slice(0, 40)).toBe(400);
      expect(errorOf(res), value.slice(0, 40)).toMatchObject({ code: 'INVALID_ARGUMENT', field });
    }
  });
});

describe('Eventkv-Holds when the feed does not hold the appends in time', () => {
  it('answers 503 STORAGE_FAILURE, safe to retry, and reads nothing', async () => {
    const named: unknown[] = [];
    const app = createApp({
      storeFor: (_database, bindings) =>
        createDurableObjectEventStore(bindings.EVENT_STORE, { routing: 'stream' }),
      // A feed that never catches up (the default waits up to 10 s, then answers the same).
      feedWaitFor: (database) => async (appends) => {
        named.push({ database, appends });
        return false;
      },
    });
    const via = async (request: Request) => app.fetch(request, env as unknown as Env);
    const db = freshDatabase();
    const res = await api(db, 'GET', '/log', { via, headers: { [HOLDS_HEADER]: 'A/%C3%BC/3' } });
    expect(res.status).toBe(503);
    expect(errorOf(res)).toMatchObject({ code: 'STORAGE_FAILURE' });
    expect(named).toEqual([
      { database: db, appends: [{ ref: { type: 'A', id: 'ü' }, version: 3 }] },
    ]);
    // Without the header nothing is waited for.
    expect((await api(db, 'GET', '/log', { via })).status).toBe(200);
    expect(named).toHaveLength(1);
  });
});

describe("the HTTP client's read-your-writes", () => {
  it('names its own appends to its next database-wide read, and only until one was answered', async () => {
    const db = freshDatabase();
    const sent: (string | null)[] = [];
    const store = createHttpEventStore(ORIGIN, {
      token: await tokenFor(db),
      fetch: (request) => {
        if (request.method === 'GET') sent.push(request.headers.get(HOLDS_HEADER));
        return send(request);
      },
      WebSocket: false,
    });
    await store.stream({ type: 'Account', id: 'a/1' }).append({ type: 'Opened', data: {} });
    const session = await store.open({ type: 'Ledger', id: 'ü' });
    await session.append([
      { type: 'Opened', data: {} },
      { type: 'Deposited', data: {} },
    ]);
    await session.close();
    expect((await store.readLog()).events).toHaveLength(3);
    expect(await store.logPosition()).toBe(3);
    expect(sent).toEqual(['Account/a%2F1/1,Ledger/%C3%BC/2', null]);
  });

  it('lets go of an append the server does not have (its data was reset) after about a second, instead of failing every read', async () => {
    // The appends go to another database, as if this one had been reset since: the client
    // remembers an append its database does not hold.
    const db = freshDatabase();
    const elsewhere = freshDatabase();
    const elsewhereToken = await tokenFor(elsewhere);
    const sent: (string | null)[] = [];
    const store = createHttpEventStore(ORIGIN, {
      token: await tokenFor(db),
      fetch: (request) => {
        if (request.method !== 'POST') {
          sent.push(request.headers.get(HOLDS_HEADER));
          return send(request);
        }
        const moved = new Request(request.url.replace(`/v1/${db}/`, `/v1/${elsewhere}/`), request);
        moved.headers.set('Authorization', `Bearer ${elsewhereToken}`);
        return send(moved);
      },
      WebSocket: false,
    });
    await store.stream({ type: 'Account', id: 'gone' }).append({ type: 'Opened', data: {} });
    const started = Date.now();
    expect((await store.readLog()).events).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await store.logPosition()).toBe(0);
    expect(sent).toEqual(['Account/gone/1', null]);
  });

  it('names appends that pass one header in several, each waited for before the read', async () => {
    // 40 streams whose ids are 256 CJK characters: some 92 kB of names, far past what one
    // header may carry. Every one of them is waited for; no header passes the limit.
    const db = freshDatabase();
    const sent: { path: string; holds: string | null }[] = [];
    const store = createHttpEventStore(ORIGIN, {
      token: await tokenFor(db),
      fetch: (request) => {
        if (request.method === 'GET') {
          sent.push({
            path: new URL(request.url).pathname,
            holds: request.headers.get(HOLDS_HEADER),
          });
        }
        return send(request);
      },
      WebSocket: false,
    });
    const ids = Array.from({ length: 40 }, (_, i) => `${i}`.padEnd(256, '帳'));
    for (const id of ids) {
      await store.stream({ type: 'Account', id }).append({ type: 'Opened', data: {} });
    }
    const log = await store.readLog();
    expect(new Set(log.events.map((e) => e.metadata.aggregateId))).toEqual(new Set(ids));
    const named = sent.flatMap(({ holds }) => (holds ?? '').split(',').filter(Boolean));
    expect(named).toHaveLength(40);
    for (const { holds } of sent)
      expect((holds ?? '').length).toBeLessThanOrEqual(MAX_HOLDS_LENGTH);
    expect(sent.length).toBeGreaterThan(1);
    expect(sent.at(-1)?.path).toBe(`/v1/${db}/log`);
    expect(sent.slice(0, -1).every(({ path }) => path === `/v1/${db}/log/position`)).toBe(true);
    // All held: the next read names none.
    await store.readLog();
    expect(sent.at(-1)).toEqual({ path: `/v1/${db}/log`, holds: null });
  });
});
