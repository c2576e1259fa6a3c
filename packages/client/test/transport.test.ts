import { describe, expect, it } from 'vitest';
import { claimedDatabase, createTransport, isHttpError, toWire } from '../src/index.js';

const jwt = (claims: Record<string, unknown>) =>
  `h.${btoa(JSON.stringify(claims)).replace(/=+$/, '')}.s`;

describe('createTransport', () => {
  it('asks a token function before every attempt and sends wire JSON', async () => {
    const seen: string[] = [];
    let calls = 0;
    const transport = createTransport(
      'https://api.example/',
      async () => `token-${++calls}`,
      async (request) => {
        seen.push(`${request.headers.get('Authorization')} ${await request.text()}`);
        return seen.length === 1
          ? new Response('', { status: 503 })
          : new Response(toWire({ ok: new Date(1) }), { status: 200 });
      },
      { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } },
    );
    const value = await transport.request({
      method: 'POST',
      path: '/v1/acme/x',
      body: { at: new Date(0) },
      idempotent: true,
    });
    expect(value).toEqual({ ok: new Date(1) });
    expect(seen).toEqual([
      'Bearer token-1 {"at":{"$date":"1970-01-01T00:00:00.000Z"}}',
      'Bearer token-2 {"at":{"$date":"1970-01-01T00:00:00.000Z"}}',
    ]);
  });

  it('refuses an empty token, and an error body without a code is BAD_RESPONSE', async () => {
    const empty = createTransport(
      'https://api.example',
      () => '',
      async () => new Response('{}'),
    );
    await expect(empty.request({ method: 'GET', path: '/' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'token',
    });
    const odd = createTransport('https://api.example', 't', async () =>
      Response.json({ error: { oops: true } }, { status: 500 }),
    );
    const error = await odd.request({ method: 'GET', path: '/' }).catch((e) => e);
    expect(isHttpError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'BAD_RESPONSE', status: 500 });
  });
});

describe('claimedDatabase', () => {
  it("reads a token's db claim without verifying it", () => {
    expect(claimedDatabase(jwt({ db: 'acme', sub: 'ann' }))).toBe('acme');
    expect(claimedDatabase(jwt({ sub: 'ann' }))).toBeUndefined();
    expect(claimedDatabase('not a token')).toBeUndefined();
  });
});
