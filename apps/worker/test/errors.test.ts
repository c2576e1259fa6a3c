import { toWire } from '@eventkv/client';
import { describe, expect, it } from 'vitest';
import { api, call, errorOf, freshDatabase, send, tokenFor } from './helpers';

const S = '/streams/Account/1';

const raw = async (db: string, path: string, init: RequestInit) => {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${await tokenFor(db)}`);
  return call(`/v1/${db}${path}`, { ...init, headers });
};

const versionOf = async (db: string) =>
  ((await api(db, 'GET', `${S}/version`)).body as { version: number }).version;

describe('error responses', () => {
  it('answers 404 ROUTE_NOT_FOUND to unknown routes and methods', async () => {
    const db = freshDatabase();
    for (const [method, path] of [
      ['GET', '/nothing/here'],
      ['PUT', `${S}/events`],
      ['GET', `${S}/unknown`],
    ] as const) {
      const res = await api(db, method, path);
      expect(res.status).toBe(404);
      expect(errorOf(res).code).toBe('ROUTE_NOT_FOUND');
    }
    const outside = await call('/v2/anything', {});
    expect(outside.status).toBe(404);
    expect(await outside.json()).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
  });

  it('answers 400 to malformed JSON, bad wire JSON tags and invalid fields, writing nothing', async () => {
    const db = freshDatabase();
    const bodies = [
      '{"events": ',
      '\u00ff',
      '{"$nope": 1}',
      '{"events": [{"type": "A", "data": {"$date": "never"}}]}',
      '{"events": [{"type": "A", "data": {"$x": 1, "y": 2}}]}',
    ];
    for (const body of bodies) {
      const res = await raw(db, `${S}/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('MALFORMED_BODY');
    }
    const invalid = [
      { events: 'nope' },
      { events: [{ type: 'Opened' }], extra: 1 },
      { events: [{ type: '' }] },
      { events: [{ type: 'Opened' }], expectedVersion: -1 },
    ];
    for (const body of invalid) {
      const res = await api(db, 'POST', `${S}/events`, { body });
      expect(res.status).toBe(400);
      expect(errorOf(res).code).toBe('INVALID_ARGUMENT');
    }
    const empty = await raw(db, `${S}/events`, { method: 'POST' });
    expect(empty.status).toBe(400);
    expect(await versionOf(db)).toBe(0);
  });

  it('answers 400 to invalid versions and query parameters', async () => {
    const db = freshDatabase();
    for (const path of [
      `${S}/events?from=abc`,
      `${S}/events?from=-1`,
      `${S}/events?from=1.5`,
      `${S}/events?from=0`,
      `${S}/events?from=3&to=1`,
      `${S}/events?direction=sideways`,
      `${S}/events?colour=red`,
      `${S}/events?snapshot=maybe`,
      `${S}/snapshots/0`,
      `${S}/snapshots/1e3`,
      '/log?after=x',
    ]) {
      const res = await api(db, 'GET', path);
      expect(res.status, path).toBe(400);
      expect(errorOf(res).code, path).toBe('INVALID_ARGUMENT');
    }
    const disagree = await api(db, 'POST', `${S}/events`, {
      body: { events: [{ type: 'Opened' }], expectedVersion: 0 },
      headers: { 'If-Match': '"3"' },
    });
    expect(disagree.status).toBe(400);
    expect(errorOf(disagree)).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'If-Match' });
  });

  it('answers 409 VERSION_MISMATCH with the expected and actual versions', async () => {
    const db = freshDatabase();
    await api(db, 'POST', `${S}/events`, { body: { events: [{ type: 'Opened' }] } });
    const res = await api(db, 'POST', `${S}/events`, {
      body: { events: [{ type: 'Closed' }], expectedVersion: 'no-stream' },
    });
    expect(res.status).toBe(409);
    expect(errorOf(res)).toMatchObject({
      code: 'VERSION_MISMATCH',
      expected: 'no-stream',
      actual: 1,
      stream: { database: db, type: 'Account', id: '1' },
    });
    expect(await versionOf(db)).toBe(1);
  });

  it('answers 409 DUPLICATE_IDEMPOTENCY_ID to a clashing message id', async () => {
    const db = freshDatabase();
    const event = (type: string, messageId: string) => ({ type, metadata: { messageId } });
    await api(db, 'POST', `${S}/events`, { body: { events: [event('Opened', 'm')] } });
    const res = await api(db, 'POST', `${S}/events`, {
      body: { events: [event('Deposited', 'n'), event('Closed', 'm')] },
    });
    expect(res.status).toBe(409);
    expect(errorOf(res)).toMatchObject({ code: 'DUPLICATE_IDEMPOTENCY_ID', existingVersion: 1 });
    expect(await versionOf(db)).toBe(1);
  });

  it('answers 415 to a body that is not application/json, writing nothing', async () => {
    const db = freshDatabase();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const res = await raw(db, `${S}/events`, {
        method: 'POST',
        body: toWire({ events: [{ type: 'Opened' }] }),
        headers: type === undefined ? {} : { 'Content-Type': type },
      });
      // A fetch body of a string gets text/plain when no type is set.
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    }
    expect(await versionOf(db)).toBe(0);
  });

  it('answers 413 to a body over the limit by Content-Length, before reading it', async () => {
    const db = freshDatabase();
    const big = toWire({ events: [{ type: 'Opened', data: 'x'.repeat(8 * 1024 * 1024) }] });
    const res = await raw(db, `${S}/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(big.length) },
      body: big,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(await versionOf(db)).toBe(0);
  });

  it('answers 413 to a chunked body over the limit while reading it', async () => {
    const db = freshDatabase();
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0)
          controller.enqueue(new TextEncoder().encode('{"events":[{"type":"A","data":"'));
        if (sent >= 8 * 16 + 8) {
          controller.enqueue(new TextEncoder().encode('"}]}'));
          controller.close();
          return;
        }
        controller.enqueue(chunk);
        sent += 1;
      },
    });
    const req = new Request(`https://eventkv.test/v1/${db}${S}/events`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${await tokenFor(db)}`,
      },
      body,
      // @ts-expect-error `duplex` is required for streamed bodies but missing from the types
      duplex: 'half',
    });
    expect(req.headers.get('Content-Length')).toBeNull();
    const res = await send(req);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(await versionOf(db)).toBe(0);
  });

  it('refuses over-long waits when opening a session', async () => {
    const db = freshDatabase();
    const res = await api(db, 'POST', `${S}/sessions`, { body: { openTimeoutMs: 60_000 } });
    expect(res.status).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'body.openTimeoutMs' });
  });
});
