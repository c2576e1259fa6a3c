import { env } from 'cloudflare:workers';
import { type EventStore, type ReadOptions, StorageError } from '@eventkv/core';
import { createDurableObjectEventStore } from '@eventkv/durable-object';
import { describe, expect, it } from 'vitest';
import { createApp, type Env } from '../src/index';
import { MAX_WAIT_MS } from '../src/long-poll.js';
import {
  type ApiResponse,
  api,
  call,
  errorOf,
  freshDatabase,
  send,
  sendDatabaseRouted,
} from './helpers';

const S = '/streams/Account/42';
const deposit = (amount: number) => ({ type: 'Deposited', data: { amount } });

/** A request the test can look at without waiting on it. */
const track = (pending: Promise<ApiResponse>) => {
  const state: { answer?: ApiResponse } = {};
  void pending.then((answer) => {
    state.answer = answer;
  });
  return state;
};

const events = (res: ApiResponse | undefined) =>
  (res?.body as { events: { version: number; position?: number }[] } | undefined)?.events;

// Both routings: the default one (one object per stream, the log from the feed) and 'database'.
const ROUTINGS = [
  ['stream', send],
  ['database', sendDatabaseRouted],
] as const;

describe('long-polls: GET .../events?wait= and GET .../log?wait=', () => {
  for (const [routing, via] of ROUTINGS) {
    it(`a read that waits answers with the next append (${routing} routing)`, async () => {
      const db = freshDatabase();
      await api(db, 'POST', `${S}/events`, { body: { events: [deposit(1)] }, via });
      const stream = track(api(db, 'GET', `${S}/events?from=2&wait=${MAX_WAIT_MS}`, { via }));
      const log = track(api(db, 'GET', `/log?after=1&wait=${MAX_WAIT_MS}`, { via }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect([stream.answer, log.answer]).toEqual([undefined, undefined]);
      await api(db, 'POST', `${S}/events`, { body: { events: [deposit(2), deposit(3)] }, via });
      await expect.poll(() => stream.answer && log.answer, { timeout: 15_000 }).toBeDefined();
      expect(stream.answer?.status).toBe(200);
      expect(events(stream.answer)?.map((e) => e.version)).toEqual([2, 3]);
      expect(log.answer?.status).toBe(200);
      expect(events(log.answer)?.map((e) => e.position)).toEqual([2, 3]);
      expect(log.answer?.body).toMatchObject({ position: 3 });
    });

    it(`a read that has events answers at once; one that waits in vain answers empty (${routing} routing)`, async () => {
      const db = freshDatabase();
      await api(db, 'POST', `${S}/events`, { body: { events: [deposit(1)] }, via });
      const ready = await api(db, 'GET', `${S}/events?wait=${MAX_WAIT_MS}`, { via });
      expect(events(ready)?.map((e) => e.version)).toEqual([1]);
      const quiet = await api(db, 'GET', `${S}/events?from=2&wait=30`, { via });
      expect([quiet.status, events(quiet)]).toEqual([200, []]);
      const quietLog = await api(db, 'GET', '/log?after=1&wait=30', { via });
      expect([quietLog.status, quietLog.body]).toEqual([200, { events: [], position: 1 }]);
    });

    it(`GET .../log/position: 0 when empty, then the last event's (${routing} routing)`, async () => {
      const db = freshDatabase();
      expect((await api(db, 'GET', '/log/position', { via })).body).toEqual({ position: 0 });
      await api(db, 'POST', `${S}/events`, { body: { events: [deposit(1), deposit(2)] }, via });
      expect((await api(db, 'GET', '/log/position', { via })).body).toEqual({ position: 2 });
    });
  }

  it('refuses a bad wait with 400 INVALID_ARGUMENT, before reading', async () => {
    const db = freshDatabase();
    const bad = [
      `${S}/events?wait=soon`,
      `${S}/events?wait=-1`,
      `${S}/events?wait=${MAX_WAIT_MS + 1}`,
      `${S}/events?wait=`,
      `${S}/events?wait=1e3`,
      `${S}/events?wait=%2B5`,
      `${S}/events?wait=0x10`,
      `${S}/events?wait=99999999999999999999`,
      `${S}/events?wait=10&wait=20`,
      `${S}/events?wait=10&snapshot=true`,
      `${S}/events?wait=10&direction=backward`,
      '/log?wait=1.5',
      `/log?wait=${MAX_WAIT_MS + 1}`,
      '/log/position?wait=10',
    ];
    for (const path of bad) {
      const res = await api(db, 'GET', path);
      expect(res.status, path).toBe(400);
      expect(errorOf(res).code, path).toBe('INVALID_ARGUMENT');
    }
    expect(errorOf(await api(db, 'GET', `${S}/events?wait=soon`)).field).toBe('wait');
  });

  it("answers the error a wait's tail reports (an object refusing more waits): 503, not an empty page", async () => {
    // A store whose tails report at once what an object at MAX_WAITS answers.
    const refusing = createApp({
      storeFor: (_database, bindings) => {
        const store = createDurableObjectEventStore(bindings.EVENT_STORE);
        const refused = new StorageError('waitStream', {
          detail: 'the object already holds 1000 waits',
        });
        return {
          ...store,
          stream: (ref) => {
            const stream = store.stream(ref);
            // What the route uses of a stream: its reads, and a tail that fails.
            return {
              read: (options: ReadOptions) => stream.read(options),
              version: () => stream.version(),
              subscribe: (_listener: unknown, options: { onError?: (e: unknown) => void }) => {
                queueMicrotask(() => options.onError?.(refused));
                return () => {};
              },
            };
          },
          subscribeLog: (_listener, options) => {
            queueMicrotask(() => options?.onError?.(refused));
            return () => {};
          },
        } as EventStore;
      },
    });
    const via = async (request: Request) => refusing.fetch(request, env as unknown as Env);
    const db = freshDatabase();
    for (const path of [`${S}/events?wait=${MAX_WAIT_MS}`, `/log?wait=${MAX_WAIT_MS}`]) {
      const res = await api(db, 'GET', path, { via });
      expect(res.status, path).toBe(503);
      expect(errorOf(res).code, path).toBe('STORAGE_FAILURE');
    }
  });

  it('is authenticated and authorized as the read itself', async () => {
    const db = freshDatabase();
    for (const path of [`${S}/events?wait=10`, '/log?wait=10', '/log/position']) {
      expect((await call(`/v1/${db}${path}`)).status, path).toBe(401);
      const other = await api(db, 'GET', path, { tokenDb: `${db}-other` });
      const read = await api(db, 'GET', path.replace(/[?&]wait=10/, ''), {
        tokenDb: `${db}-other`,
      });
      expect(other.status, path).toBe(read.status);
      expect(other.status, path).toBe(403);
    }
  });
});
