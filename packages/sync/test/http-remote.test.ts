import { fromWire, isHttpError, toWire } from '@eventkv/client';
import {
  createMemoryKv,
  type InvalidArgumentError,
  isInvalidArgumentError,
  isStorageError,
  type RetryPolicy,
} from '@eventkv/core';
import { createReplica } from '@eventkv/core/replica';
import { createManualClock } from '@eventkv/core/testing';
import { describe, expect, it } from 'vitest';
import {
  createHttpSyncRemote,
  createSyncEdge,
  createSyncedStore,
  type HttpSyncRemoteOptions,
  type PullResponse,
  type PushRequest,
  SYNC_PROTOCOL,
} from '../src/index.js';

type Answer = Response | 'network' | 'cut-off';

/** A token whose payload holds `claims` (unsigned: the remote reads, never verifies, it). */
const jwt = (claims: Record<string, unknown>): string => {
  const part = (value: unknown) =>
    btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.signature`;
};

const pulled: PullResponse = {
  protocol: SYNC_PROTOCOL,
  serverId: 'server-1',
  events: [],
  cursor: { serverId: 'server-1', position: 0 },
  more: false,
};

const ok = (value: unknown) =>
  new Response(toWire(value), { status: 200, headers: { 'Content-Type': 'application/json' } });
const error = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  Response.json(body, { status, headers });
const coded = (status: number, code: string, headers: Record<string, string> = {}) =>
  error(status, { error: { code, message: `${code} happened` } }, headers);

/**
 * A remote whose fetch answers each request with the next scripted answer (the last one
 * repeats), and a manual clock that records every wait.
 */
const scripted = (answers: Answer[], options: Partial<HttpSyncRemoteOptions> = {}) => {
  const requests: {
    url: string;
    authorization: string | null;
    type: string | null;
    body: string;
  }[] = [];
  const waits: number[] = [];
  const clock = createManualClock(Date.UTC(2026, 9, 21, 7, 28, 0));
  const auth =
    options.getToken === undefined ? { token: options.token ?? jwt({ db: 'acme' }) } : {};
  const remote = createHttpSyncRemote('https://api.example/', {
    ...auth,
    ...options,
    clock: {
      now: clock.now,
      sleep: async (ms) => {
        waits.push(ms);
        await clock.sleep(ms);
      },
    },
    fetch: async (request) => {
      requests.push({
        url: request.url,
        authorization: request.headers.get('Authorization'),
        type: request.headers.get('Content-Type'),
        body: await request.text(),
      });
      const answer = answers[Math.min(requests.length, answers.length) - 1] as Answer;
      if (answer === 'network') throw new TypeError('fetch failed');
      if (answer === 'cut-off') {
        return new Response(
          new ReadableStream({
            start: (controller) => controller.error(new TypeError('connection reset')),
          }),
          { status: 200 },
        );
      }
      return answer.clone();
    },
  });
  return { remote, requests, waits };
};

const push: PushRequest = {
  protocol: SYNC_PROTOCOL,
  clientId: 'client-1',
  epoch: 1,
  seq: 1,
  entries: [
    {
      stream: { type: 'Account', id: '42' },
      expectedVersion: 0,
      events: [
        {
          type: 'Opened',
          data: { at: new Date(0), tags: new Set(['a']) },
          metadata: { messageId: 'm-1' },
        },
      ],
    },
  ],
};

const fail = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (caught) {
    return caught;
  }
  throw new Error('expected a failure');
};

describe('createHttpSyncRemote', () => {
  it("POSTs wire JSON to the database's sync routes and decodes the answer", async () => {
    const { remote, requests } = scripted([ok({ ...pulled, extra: new Date(5) })], {
      token: jwt({ db: 'a/b c' }),
    });
    expect(remote.database).toBe('a/b c');
    const answer = await remote.pull({ protocol: SYNC_PROTOCOL, limit: 10 });
    expect(answer).toEqual({ ...pulled, extra: new Date(5) });
    await remote.push(push).catch(() => undefined);
    expect(requests.map((r) => r.url)).toEqual([
      'https://api.example/v1/a%2Fb%20c/sync/pull',
      'https://api.example/v1/a%2Fb%20c/sync/push',
    ]);
    expect(requests[0]?.type).toBe('application/json');
    expect(requests[0]?.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.signature$/);
    // The values JSON lacks travel in their wire form and come back as they were.
    expect(fromWire(requests[1]?.body ?? '')).toEqual(push);
  });

  it('calls getToken before every attempt, so a refreshed token is used', async () => {
    let issued = 0;
    const { remote, requests } = scripted(['network', coded(503, 'STORAGE_FAILURE'), ok(pulled)], {
      database: 'acme',
      getToken: async () => `t.${++issued}.x`,
    });
    await remote.pull({ protocol: SYNC_PROTOCOL });
    await remote.pull({ protocol: SYNC_PROTOCOL });
    expect(requests.map((r) => r.authorization)).toEqual([
      'Bearer t.1.x',
      'Bearer t.2.x',
      'Bearer t.3.x',
      'Bearer t.4.x',
    ]);
  });

  it('retries network failures, 429 and 503, honouring Retry-After, with the same bytes', async () => {
    const { remote, requests, waits } = scripted([
      'network',
      coded(429, 'RATE_LIMITED', { 'Retry-After': '2' }),
      coded(503, 'STORAGE_FAILURE', { 'Retry-After': 'Wed, 21 Oct 2026 07:28:05 GMT' }),
      'cut-off',
      ok({ protocol: SYNC_PROTOCOL, outcome: 'gap', serverId: 's', expectedSeq: 1 }),
    ]);
    await expect(remote.push(push)).resolves.toMatchObject({ outcome: 'gap' });
    expect(requests).toHaveLength(5);
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
    // A backoff below 100 ms, then the server's 2 s, then what is left until its date.
    expect(waits[0]).toBeLessThan(100);
    expect(waits[1]).toBe(2000);
    expect(waits[2]).toBeGreaterThan(2800);
    expect(waits[2]).toBeLessThanOrEqual(3000);
  });

  it('gives up after the policy, with the last failure as its class', async () => {
    const { remote, requests } = scripted([coded(503, 'STORAGE_FAILURE')], {
      retry: { maxAttempts: 3 } satisfies RetryPolicy,
    });
    expect(isStorageError(await fail(remote.pull({ protocol: SYNC_PROTOCOL })))).toBe(true);
    expect(requests).toHaveLength(3);
    const never = scripted(['network'], { retry: false });
    const caught = await fail(never.remote.pull({ protocol: SYNC_PROTOCOL }));
    expect(isHttpError(caught) && caught.code).toBe('NETWORK_FAILURE');
    expect(never.requests).toHaveLength(1);
  });

  it('surfaces 401 and 403 at once, as HttpError', async () => {
    let calls = 0;
    const { remote, requests } = scripted([coded(401, 'UNAUTHORIZED')], {
      database: 'acme',
      getToken: () => `t.${++calls}.x`,
    });
    const caught = await fail(remote.push(push));
    expect(isHttpError(caught)).toBe(true);
    expect(caught).toMatchObject({
      code: 'UNAUTHORIZED',
      status: 401,
      message: 'UNAUTHORIZED happened',
    });
    expect(requests).toHaveLength(1);
    expect(calls).toBe(1);
    const forbidden = scripted([coded(403, 'FORBIDDEN')]);
    expect(await fail(forbidden.remote.pull({ protocol: SYNC_PROTOCOL }))).toMatchObject({
      code: 'FORBIDDEN',
      status: 403,
    });
    expect(forbidden.requests).toHaveLength(1);
  });

  it("rebuilds the store's errors as core's classes, and never retries them", async () => {
    const { remote, requests } = scripted([
      error(400, {
        error: {
          code: 'INVALID_ARGUMENT',
          message: 'clientId: belongs to another user: make a new one',
          field: 'clientId',
        },
      }),
    ]);
    const caught = (await fail(remote.push(push))) as InvalidArgumentError;
    expect(isInvalidArgumentError(caught)).toBe(true);
    expect(caught.field).toBe('clientId');
    expect(requests).toHaveLength(1);
  });

  it('refuses answers that are not the protocol as BAD_RESPONSE', async () => {
    for (const answer of [
      new Response('<html>', { status: 200 }),
      ok({ hello: 'world' }),
      new Response('<html>', { status: 500 }),
      error(500, { oops: true }),
    ]) {
      const { remote } = scripted([answer]);
      expect(await fail(remote.pull({ protocol: SYNC_PROTOCOL }))).toMatchObject({
        name: 'HttpError',
        code: 'BAD_RESPONSE',
      });
    }
  });

  it('checks its options', () => {
    const field = (make: () => unknown) => {
      try {
        make();
      } catch (caught) {
        return (caught as InvalidArgumentError).field;
      }
      return undefined;
    };
    const url = 'https://api.example';
    expect(field(() => createHttpSyncRemote(url, {}))).toBe('options');
    expect(field(() => createHttpSyncRemote(url, { token: 't', getToken: () => 't' }))).toBe(
      'options',
    );
    expect(field(() => createHttpSyncRemote(url, { token: '' }))).toBe('options.token');
    expect(field(() => createHttpSyncRemote(url, { token: 'not-a-jwt' }))).toBe('options.database');
    expect(field(() => createHttpSyncRemote(url, { getToken: () => 't' }))).toBe(
      'options.database',
    );
    expect(field(() => createHttpSyncRemote(url, { token: 't', database: '..' }))).toBe(
      'options.database',
    );
    expect(createHttpSyncRemote(url, { token: 't', database: 'acme' }).database).toBe('acme');
  });
});

describe('a synced store over createHttpSyncRemote', () => {
  /** An edge behind a fetch, as the Worker serves it, that can be told to refuse the token. */
  const served = () => {
    const replica = createReplica({ kv: createMemoryKv() });
    const edge = createSyncEdge({ replica });
    const state = { refuse: false, requests: 0 };
    const fetch = async (request: Request): Promise<Response> => {
      state.requests++;
      if (state.refuse) return coded(401, 'UNAUTHORIZED');
      const body = fromWire(await request.text());
      const principal = { database: 'acme', user: 'ann' };
      const answer = request.url.endsWith('/push')
        ? await edge.push(principal, body)
        : await edge.pull(principal, body);
      return ok(answer);
    };
    return { fetch, state, store: replica.store };
  };

  it('syncs; a 401 leaves the outbox as it was, and the next sync sends it', async () => {
    const { fetch, state, store: edgeStore } = served();
    let token = jwt({ db: 'acme', n: 1 });
    const local = createSyncedStore({
      kv: createMemoryKv(),
      remote: createHttpSyncRemote('https://api.example', {
        database: 'acme',
        getToken: () => token,
        fetch,
      }),
    });
    const account = { type: 'Account', id: '42' };
    await local.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
    await expect(local.sync.syncNow()).resolves.toEqual({ pushed: 1, pulled: 0 });

    await local.stream(account).append({ type: 'Deposited', data: { amount: 5 } });
    state.refuse = true;
    const before = state.requests;
    const caught = await fail(local.sync.syncNow());
    expect(isHttpError(caught) && caught.status).toBe(401);
    expect(state.requests - before).toBe(1);
    expect(await local.sync.status()).toMatchObject({ pending: 1 });

    state.refuse = false;
    token = jwt({ db: 'acme', n: 2 });
    await expect(local.sync.syncNow()).resolves.toEqual({ pushed: 1, pulled: 0 });
    const events = await edgeStore.stream({ database: 'acme', ...account }).read();
    expect(events.map((e) => e.type)).toEqual(['Opened', 'Deposited']);
    expect(await local.sync.status()).toMatchObject({ pending: 0 });
  });
});
