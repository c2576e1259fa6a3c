import { isStorageError, isVersionMismatchError, VersionMismatchError } from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import {
  createHttpEventStore,
  type FetchLike,
  fromWire,
  HttpError,
  holdsHeaders,
  isHttpError,
  isHttpErrorCode,
  MAX_HOLDS,
  MAX_HOLDS_LENGTH,
  SESSION_HEADER,
  streamPath,
  toWire,
} from '../src/index';

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
/** An unsigned token: the client only reads its `db` claim, the server verifies it. */
const token = (claims: Record<string, unknown>) =>
  `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}.sig`;

const recorder = (respond: (request: Request) => Response) => {
  const requests: Request[] = [];
  const fetch: FetchLike = async (request) => {
    requests.push(request);
    return respond(request);
  };
  return { requests, fetch };
};

const ok = (value: unknown, status = 200) =>
  new Response(toWire(value), { status, headers: { 'Content-Type': 'application/json' } });

describe('wire format', () => {
  it('round-trips Dates, BigInt, Map, Set, undefined and binary data as wire JSON', () => {
    const value = {
      at: new Date(7),
      n: 2n ** 70n,
      m: new Map([['a', 1]]),
      s: new Set([1]),
      u: undefined,
      b: new Uint8Array([1, 2, 255]),
    };
    const text = toWire(value);
    expect(JSON.parse(text)).toMatchObject({ at: { $date: '1970-01-01T00:00:00.007Z' } });
    expect(fromWire(text)).toEqual(value);
    expect(fromWire('{"events": []}')).toEqual({ events: [] });
    expect(() => fromWire('{"events": ')).toThrow(SyntaxError);
    expect(() => fromWire('{"$nope": 1}')).toThrow(/unknown tag/);
  });

  it('encodes every name as exactly one path segment', () => {
    expect(streamPath('acme', 'Account', 'a/b?c#d%')).toBe(
      '/v1/acme/streams/Account/a%2Fb%3Fc%23d%25',
    );
  });
});

describe('holdsHeaders', () => {
  const appended = (n: number, id: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => ({
      ref: { database: 'db', type: 'Ledger/EU', id: id(i) },
      version: i + 1,
    }));

  it('names each append as type/id/version, percent-encoded, in one header when they fit', () => {
    expect(holdsHeaders([])).toEqual([]);
    expect(holdsHeaders(appended(2, (i) => `a,${i}`))).toEqual([
      'Ledger%2FEU/a%2C0/1,Ledger%2FEU/a%2C1/2',
    ]);
  });

  it(`splits them into headers of at most MAX_HOLDS streams and MAX_HOLDS_LENGTH characters, in order`, () => {
    for (const appends of [
      appended(MAX_HOLDS * 2 + 1, (i) => String(i)),
      // 256 CJK characters an id: some 2.3 kB of percent-encoding each.
      appended(40, (i) => `${i}`.padEnd(256, '帳')),
    ]) {
      const headers = holdsHeaders(appends);
      expect(headers.length).toBeGreaterThan(1);
      for (const header of headers) {
        expect(header.length).toBeLessThanOrEqual(MAX_HOLDS_LENGTH);
        expect(header.split(',').length).toBeLessThanOrEqual(MAX_HOLDS);
      }
      expect(headers.join(',')).toBe(
        appends.map((a) => `Ledger%2FEU/${encodeURIComponent(a.ref.id)}/${a.version}`).join(','),
      );
    }
  });
});

describe('createHttpEventStore requests', () => {
  it('sends the token, a wire JSON body and the database of the token', async () => {
    const { requests, fetch } = recorder(() =>
      ok({ version: 1, firstVersion: 1, deduplicated: false }, 201),
    );
    const store = createHttpEventStore('https://api.example/', {
      token: token({ db: 'acme' }),
      fetch,
    });
    const stream = store.stream({ type: 'Account', id: 'x/y' });
    expect(stream.ref).toEqual({ database: 'acme', type: 'Account', id: 'x/y' });
    await stream.append({ type: 'Opened', data: { at: new Date(1) } }, { expectedVersion: 0 });
    const [request] = requests;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe('https://api.example/v1/acme/streams/Account/x%2Fy/events');
    expect(request!.headers.get('Authorization')).toBe(`Bearer ${token({ db: 'acme' })}`);
    expect(request!.headers.get('Content-Type')).toBe('application/json');
    expect(request!.headers.has(SESSION_HEADER)).toBe(false);
    // Each event carries the message id it was given before the first attempt.
    expect(fromWire(await request!.text())).toEqual({
      events: [
        {
          type: 'Opened',
          data: { at: new Date(1) },
          metadata: { messageId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
        },
      ],
      expectedVersion: 0,
    });
  });

  it('names the session in every request of a session', async () => {
    const { requests, fetch } = recorder((request) =>
      request.url.endsWith('/sessions')
        ? ok({ sessionId: 's-1', expiresAt: 99 }, 201)
        : ok({ version: 0 }),
    );
    const store = createHttpEventStore('https://api.example', {
      token: 't',
      database: 'acme',
      fetch,
    });
    const session = await store.open({ type: 'Account', id: '1' }, { sessionTimeoutMs: 5000 });
    expect(session.sessionId).toBe('s-1');
    expect(session.expiresAt).toBe(99);
    await session.version();
    expect(requests[1]!.headers.get(SESSION_HEADER)).toBe('s-1');
    expect(fromWire(await requests[0]!.text())).toEqual({ sessionTimeoutMs: 5000 });
  });

  it('needs a database from the ref, the options or the token', () => {
    const store = createHttpEventStore('https://api.example', {
      token: 'opaque',
      fetch: async () => ok({}),
    });
    expect(() => store.stream({ type: 'A', id: '1' })).toThrow(/db claim/);
    expect(store.stream({ database: 'mine', type: 'A', id: '1' }).ref.database).toBe('mine');
  });
});

describe('createHttpEventStore errors', () => {
  it('rebuilds store errors as core error classes', async () => {
    const json = {
      code: 'VERSION_MISMATCH',
      message: 'Version mismatch',
      stream: { database: 'acme', type: 'A', id: '1' },
      expected: 3,
      actual: 5,
    };
    const store = createHttpEventStore('https://api.example', {
      token: token({ db: 'acme' }),
      fetch: async () => Response.json({ error: json }, { status: 409 }),
    });
    const error = await store
      .stream({ type: 'A', id: '1' })
      .append({ type: 'X' })
      .catch((e) => e);
    expect(error).toBeInstanceOf(VersionMismatchError);
    expect(isVersionMismatchError(error)).toBe(true);
    expect(error).toMatchObject({ expected: 3, actual: 5 });
  });

  it('raises HttpError with the status and Retry-After for HTTP-only failures', async () => {
    const store = createHttpEventStore('https://api.example', {
      token: token({ db: 'acme' }),
      retry: false,
      fetch: async () =>
        Response.json(
          { error: { code: 'RATE_LIMITED', message: 'slow down' } },
          { status: 429, headers: { 'Retry-After': '7' } },
        ),
    });
    const error = await store.readLog().catch((e) => e);
    expect(isHttpError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'RATE_LIMITED',
      status: 429,
      retryAfter: 7,
      message: 'slow down',
    });
  });

  it('raises BAD_RESPONSE for a body that is not an eventkv answer', async () => {
    const html = createHttpEventStore('https://api.example', {
      token: token({ db: 'acme' }),
      retry: false,
      fetch: async () => new Response('<html>bad gateway</html>', { status: 502 }),
    });
    expect(await html.readLog().catch((e) => e)).toMatchObject({
      code: 'BAD_RESPONSE',
      status: 502,
    });
    const plain = createHttpEventStore('https://api.example', {
      token: token({ db: 'acme' }),
      fetch: async () => new Response('{"$bogus": 1}', { status: 200 }),
    });
    expect(
      await plain
        .stream({ type: 'A', id: '1' })
        .version()
        .catch((e) => e),
    ).toMatchObject({
      code: 'BAD_RESPONSE',
      status: 200,
    });
  });

  it('turns an unknown error code into a StorageError', async () => {
    const store = createHttpEventStore('https://api.example', {
      token: token({ db: 'acme' }),
      fetch: async () =>
        Response.json({ error: { code: 'NEW_THING', message: '?' } }, { status: 500 }),
    });
    expect(isStorageError(await store.readLog().catch((e) => e))).toBe(true);
  });

  it('matches HttpError by shape', () => {
    const error = new HttpError('FORBIDDEN', 403, 'no');
    expect(isHttpError(error)).toBe(true);
    expect(isHttpError(Object.assign(new Error('x'), { code: 'FORBIDDEN', status: 403 }))).toBe(
      false,
    );
    expect(isHttpError({ name: 'HttpError', code: 'FORBIDDEN', status: 403 })).toBe(false);
    expect(isHttpErrorCode('UNAUTHORIZED')).toBe(true);
    expect(isHttpErrorCode('VERSION_MISMATCH')).toBe(false);
  });
});
