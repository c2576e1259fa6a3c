import {
  type AppendResult,
  isInvalidArgumentError,
  isStorageError,
  isVersionMismatchError,
  type RetryPolicy,
} from '@eventkv/core';
import { createManualClock } from '@eventkv/core/testing';
import { describe, expect, it } from 'vitest';
import { createHttpEventStore, fromWire, isHttpError, toWire } from '../src/index';

type Answer = Response | 'network' | 'cut-off';

/**
 * A fetch that answers each request with the next scripted answer (the last one repeats),
 * and a manual clock that records every wait.
 */
const scripted = (answers: Answer[], retry?: RetryPolicy | false) => {
  const requests: { method: string; url: string; body: string }[] = [];
  const waits: number[] = [];
  const clock = createManualClock(Date.UTC(2026, 9, 21, 7, 28, 0));
  const store = createHttpEventStore('https://api.example', {
    token: 't',
    database: 'acme',
    ...(retry === undefined ? {} : { retry }),
    clock: {
      now: clock.now,
      sleep: async (ms) => {
        waits.push(ms);
        await clock.sleep(ms);
      },
    },
    fetch: async (request) => {
      requests.push({ method: request.method, url: request.url, body: await request.text() });
      const answer = answers[Math.min(requests.length, answers.length) - 1]!;
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
  return { store, requests, waits };
};

const ok = (value: unknown, status = 200) =>
  new Response(toWire(value), { status, headers: { 'Content-Type': 'application/json' } });
const error = (status: number, code: string, headers: Record<string, string> = {}) =>
  Response.json({ error: { code, message: code } }, { status, headers });
const unavailable = (retryAfter?: string) =>
  error(503, 'STORAGE_FAILURE', retryAfter === undefined ? {} : { 'Retry-After': retryAfter });
const rateLimited = (retryAfter: string) =>
  error(429, 'RATE_LIMITED', { 'Retry-After': retryAfter });
const appended = (deduplicated: boolean): AppendResult => ({
  version: 2,
  firstVersion: 1,
  position: 9,
  deduplicated,
});

const ref = { type: 'Account', id: '1' };

describe('append: message ids once, then exact retries', () => {
  it('gives every event its message id before the first attempt and resends the same body', async () => {
    const { store, requests } = scripted(['network', unavailable(), ok(appended(true))]);
    const result = await store
      .stream(ref)
      .append([{ type: 'A' }, { type: 'B', metadata: { messageId: 'mine' } }], {
        expectedVersion: 'no-stream',
      });
    // The stored result of the attempt that landed: the caller learns its version and position.
    expect(result).toEqual(appended(true));
    expect(requests).toHaveLength(3);
    const bodies = requests.map((r) => r.body);
    expect(new Set(bodies).size).toBe(1);
    const body = fromWire(bodies[0]!) as {
      events: { metadata: { messageId: string } }[];
      expectedVersion: unknown;
    };
    expect(body.expectedVersion).toBe('no-stream');
    expect(body.events[0]!.metadata.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.events[1]!.metadata.messageId).toBe('mine');
  });

  it('generates new ids for each call (a new append is not a retry)', async () => {
    const { store, requests } = scripted([ok(appended(false), 201)]);
    const stream = store.stream(ref);
    await stream.append({ type: 'A' });
    await stream.append({ type: 'A' });
    const ids = requests.map(
      (r) =>
        (fromWire(r.body) as { events: { metadata: { messageId: string } }[] }).events[0]!.metadata
          .messageId,
    );
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('retries network failures, cut-off answers, 502, 503, 504 and 429', async () => {
    for (const failure of [
      'network',
      'cut-off',
      error(502, 'BAD_RESPONSE'),
      new Response('<html>bad gateway</html>', { status: 502 }),
      unavailable(),
      new Response('gateway timeout', { status: 504 }),
      rateLimited('0'),
    ] as const) {
      const { store, requests } = scripted([failure, ok(appended(false), 201)]);
      expect(await store.stream(ref).append({ type: 'A' })).toEqual(appended(false));
      expect(requests).toHaveLength(2);
    }
  });

  it('never retries a 500, another 4xx, or a store refusal', async () => {
    for (const failure of [
      error(500, 'INTERNAL'),
      error(400, 'MALFORMED_BODY'),
      error(401, 'UNAUTHORIZED'),
      error(413, 'PAYLOAD_TOO_LARGE'),
      Response.json(
        {
          error: {
            code: 'VERSION_MISMATCH',
            message: 'no',
            stream: { database: 'acme', ...ref },
            expected: 0,
            actual: 2,
          },
        },
        { status: 409 },
      ),
    ]) {
      const { store, requests } = scripted([failure, ok(appended(false), 201)]);
      const caught = await store
        .stream(ref)
        .append({ type: 'A' })
        .catch((e) => e);
      expect(caught).toBeInstanceOf(Error);
      expect(requests).toHaveLength(1);
    }
    const { store } = scripted([
      Response.json(
        {
          error: {
            code: 'VERSION_MISMATCH',
            message: 'no',
            stream: { database: 'acme', ...ref },
            expected: 0,
            actual: 2,
          },
        },
        { status: 409 },
      ),
    ]);
    expect(
      isVersionMismatchError(
        await store
          .stream(ref)
          .append({ type: 'A' }, { expectedVersion: 0 })
          .catch((e) => e),
      ),
    ).toBe(true);
  });

  it('waits the backoff, or the Retry-After the server sent (seconds or HTTP-date)', async () => {
    const { store, waits } = scripted([
      rateLimited('2'),
      unavailable('Wed, 21 Oct 2026 07:28:03 GMT'),
      unavailable('60'),
      'network',
      ok(appended(false), 201),
    ]);
    await store.stream(ref).append({ type: 'A' });
    expect(waits.slice(0, 3)).toEqual([2000, 3000 - 2000, 5000]);
    // Full jitter under the fourth backoff ceiling (100 ms * 2^3).
    expect(waits[3]).toBeGreaterThanOrEqual(0);
    expect(waits[3]).toBeLessThan(800);
  });

  it('gives up after maxAttempts and throws the last failure', async () => {
    const { store, requests } = scripted(['network', 'network', unavailable()], {
      maxAttempts: 3,
    });
    const caught = await store
      .stream(ref)
      .append({ type: 'A' })
      .catch((e) => e);
    expect(requests).toHaveLength(3);
    expect(isStorageError(caught)).toBe(true);
  });

  it('gives up when the next wait would end past maxElapsedMs', async () => {
    const { store, requests, waits } = scripted([rateLimited('3')], {
      maxAttempts: 100,
      maxElapsedMs: 10_000,
    });
    const caught = await store
      .stream(ref)
      .version()
      .catch((e) => e);
    expect(waits).toEqual([3000, 3000, 3000]);
    expect(requests).toHaveLength(4);
    expect(caught).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfter: 3 });
  });

  it('retry: false sends each request once', async () => {
    const { store, requests } = scripted(['network'], false);
    const caught = await store
      .stream(ref)
      .append({ type: 'A' })
      .catch((e) => e);
    expect(caught).toMatchObject({ code: 'NETWORK_FAILURE', status: 0 });
    expect(requests).toHaveLength(1);
  });

  it('refuses a malformed retry policy when the store is created', () => {
    const create = (retry: unknown) => () =>
      createHttpEventStore('https://api.example', { token: 't', retry: retry as RetryPolicy });
    expect(create({ maxAttempts: 0 })).toThrow(/options\.retry\.maxAttempts/);
    expect(create({ tries: 3 })).toThrow(/options\.retry\.tries/);
  });
});

describe('which operations are retried', () => {
  const failures = ['network', 'cut-off', unavailable(), error(502, 'BAD_RESPONSE')] as const;

  it('reads, saveSnapshot, renew and close: after any failure that may be transient', async () => {
    const session = { sessionId: 's', expiresAt: 9 };
    const calls: [string, (store: ReturnType<typeof scripted>['store']) => Promise<unknown>][] = [
      ['read', (s) => s.stream(ref).read()],
      ['version', (s) => s.stream(ref).version()],
      ['versionOf', (s) => s.stream(ref).versionOf('m')],
      ['latestSnapshot', (s) => s.stream(ref).latestSnapshot()],
      ['snapshotVersions', (s) => s.stream(ref).snapshotVersions()],
      ['saveSnapshot', (s) => s.stream(ref).saveSnapshot(1, { n: 1 })],
      ['resume', (s) => s.resume(ref, 's')],
      ['query', (s) => s.query('user', 'u')],
      ['readLog', (s) => s.readLog()],
    ];
    for (const failure of failures) {
      for (const [name, call] of calls) {
        const answer = ok({
          events: [],
          version: 1,
          versions: [],
          snapshot: undefined,
          position: 0,
          ...session,
        });
        const { store, requests } = scripted([failure, answer]);
        await call(store);
        expect(requests, name).toHaveLength(2);
      }
    }
    for (const failure of failures) {
      const { store, requests } = scripted([
        ok(session, 201),
        failure,
        ok(session),
        failure,
        new Response(null, { status: 204 }),
      ]);
      const opened = await store.open(ref);
      await opened.renew();
      await opened.close();
      expect(requests.map((r) => r.method)).toEqual(['POST', 'POST', 'POST', 'DELETE', 'DELETE']);
    }
  });

  it('open, deleteSnapshot and clearSnapshots: only after a 429, which proves nothing was done', async () => {
    const calls: [string, (store: ReturnType<typeof scripted>['store']) => Promise<unknown>][] = [
      ['open', (s) => s.open(ref)],
      ['deleteSnapshot', (s) => s.stream(ref).deleteSnapshot(1)],
      ['clearSnapshots', (s) => s.stream(ref).clearSnapshots()],
    ];
    const answer = ok({ sessionId: 's', expiresAt: 9, deleted: 1 });
    for (const [name, call] of calls) {
      for (const failure of failures) {
        const { store, requests } = scripted([failure, answer]);
        await expect(call(store), name).rejects.toBeInstanceOf(Error);
        expect(requests, name).toHaveLength(1);
      }
      const { store, requests, waits } = scripted([rateLimited('1'), answer]);
      await call(store);
      expect(requests, name).toHaveLength(2);
      expect(waits).toEqual([1000]);
    }
  });
});

describe('input is checked before anything is sent', () => {
  const silent = () => {
    const { store, requests } = scripted([ok({})]);
    return { store, requests };
  };
  const refused = async (run: Promise<unknown> | (() => unknown)) => {
    let caught: unknown;
    try {
      await (typeof run === 'function' ? run() : run);
    } catch (error) {
      caught = error;
    }
    expect(isInvalidArgumentError(caught), String(caught)).toBe(true);
    return (caught as { field: string }).field;
  };

  it('payloads outside the contract: functions, symbols, class instances', async () => {
    class Money {
      constructor(readonly cents: bigint) {}
    }
    const { store, requests } = silent();
    const stream = store.stream(ref);
    expect(await refused(stream.append({ type: 'A', data: { f: () => 1 } }))).toBe(
      'events[0].data.f',
    );
    expect(await refused(stream.append([{ type: 'A' }, { type: 'B', data: Symbol('s') }]))).toBe(
      'events[1].data',
    );
    expect(await refused(stream.append({ type: 'A', data: { m: new Money(5n) } }))).toBe(
      'events[0].data.m',
    );
    expect(await refused(stream.append({ type: 'A', metadata: { userId: '' } }))).toBe(
      'events[0].metadata.userId',
    );
    expect(await refused(stream.append({ type: 'A' }, { expectedVersion: -1 }))).toBe(
      'expectedVersion',
    );
    expect(await refused(stream.saveSnapshot(1, { f: () => 1 }))).toBe('state.f');
    expect(await refused(stream.saveSnapshot(1, new Money(1n)))).toBe('state');
    expect(requests).toEqual([]);
  });

  it('names: lone surrogates, control characters and overlong names, never a raw URIError', async () => {
    const { store, requests } = silent();
    const lone = 'a\uD800b';
    expect(await refused(() => store.stream({ type: lone, id: '1' }))).toBe('ref.type');
    expect(await refused(() => store.stream({ type: 'A', id: `x\u0007` }))).toBe('ref.id');
    expect(
      await refused(() => store.stream({ database: 'x'.repeat(257), type: 'A', id: '1' })),
    ).toBe('ref.database');
    expect(await refused(() => store.stream({ type: 'A', id: '.' }))).toBe('ref.id');
    expect(await refused(store.stream(ref).versionOf(lone))).toBe('messageId');
    expect(await refused(store.resume(ref, lone))).toBe('sessionId');
    expect(await refused(store.query('user', lone))).toBe('value');
    expect(await refused(store.readLog({ database: lone }))).toBe('options.database');
    expect(requests).toEqual([]);
  });
});

describe('reads page through ranges larger than one answer', () => {
  const event = (version: number) => ({
    type: 'A',
    version,
    metadata: { messageId: `m${version}` },
  });
  const range = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => event(from + i));

  it('read follows next until the range is complete, and sends its options as they are', async () => {
    const { store, requests } = scripted([
      ok({ events: range(1, 3), next: { from: 4, to: 7, limit: 4 } }),
      ok({ events: range(4, 6), next: { from: 7, to: 7, limit: 1 } }),
      ok({ events: range(7, 7) }),
    ]);
    const events = await store.stream(ref).read({ limit: 7 });
    expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(requests.map((r) => new URL(r.url).search)).toEqual([
      '?limit=7',
      '?from=4&to=7&limit=4',
      '?from=7&to=7&limit=1',
    ]);
  });

  it('backwards too', async () => {
    const { store, requests } = scripted([
      ok({ events: range(5, 6).reverse(), next: { from: 1, to: 4, direction: 'backward' } }),
      ok({ events: range(1, 4).reverse() }),
    ]);
    const events = await store.stream(ref).read({ direction: 'backward' });
    expect(events.map((e) => e.version)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(new URL(requests[1]!.url).search).toBe('?from=1&to=4&direction=backward');
  });

  it('load: the snapshot and version of the first answer, the events of every page', async () => {
    const { store, requests } = scripted([
      ok({
        snapshot: { version: 2, state: 1, takenAt: 0 },
        events: [],
        version: 6,
        next: { from: 3, to: 6 },
      }),
      ok({ events: range(3, 4), next: { from: 5, to: 6 } }),
      ok({ events: range(5, 6) }),
    ]);
    const loaded = await store.stream(ref).load();
    expect(loaded.snapshot?.version).toBe(2);
    expect(loaded.version).toBe(6);
    expect(loaded.events.map((e) => e.version)).toEqual([3, 4, 5, 6]);
    expect(new URL(requests[0]!.url).search).toBe('?snapshot=true');
    expect('next' in loaded).toBe(false);
  });

  it('an answer that stops making progress is a bad response, not an endless loop', async () => {
    const { store } = scripted([
      ok({ events: range(1, 1), next: { from: 2 } }),
      ok({ events: [], next: { from: 2 } }),
    ]);
    const caught = await store
      .stream(ref)
      .read()
      .catch((e) => e);
    expect(isHttpError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'BAD_RESPONSE' });
  });
});
