import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { call, freshDatabase, SECRET, tokenFor } from './helpers';

const now = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

const appendWith = (db: string, authorization: string | undefined) =>
  call(`/v1/${db}/streams/Account/1/events`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(authorization === undefined ? {} : { Authorization: authorization }),
    },
    body: JSON.stringify({ events: [{ type: 'Opened' }] }),
  });

const versionOf = async (db: string) => {
  const res = await call(`/v1/${db}/streams/Account/1/version`, {
    headers: { Authorization: `Bearer ${await tokenFor(db)}` },
  });
  return (JSON.parse(await res.text()) as { version: number }).version;
};

describe('authentication', () => {
  it('accepts a valid token for its own database', async () => {
    const db = freshDatabase();
    expect((await appendWith(db, `Bearer ${await tokenFor(db)}`)).status).toBe(201);
  });

  const rejected: [string, (db: string) => Promise<string | undefined>][] = [
    ['no Authorization header', async () => undefined],
    ['a non-bearer scheme', async (db) => `Basic ${btoa(`${db}:x`)}`],
    ['a token that is not a JWT', async () => 'Bearer not-a-token'],
    ['a wrong signature', async (db) => `Bearer ${await tokenFor(db, {}, `${SECRET}-other`)}`],
    [
      'alg none',
      async (db) =>
        `Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ db, iss: 'eventkv', aud: 'eventkv-api', exp: now() + 600 })}.`,
    ],
    [
      'another algorithm (HS512 with the right key)',
      async (db) =>
        `Bearer ${await sign({ db, iss: 'eventkv', aud: 'eventkv-api', exp: now() + 600 }, SECRET, 'HS512')}`,
    ],
    ['an expired token', async (db) => `Bearer ${await tokenFor(db, { exp: now() - 10 })}`],
    ['a token without exp', async (db) => `Bearer ${await tokenFor(db, { exp: undefined })}`],
    ['a not-yet-valid token', async (db) => `Bearer ${await tokenFor(db, { nbf: now() + 600 })}`],
    ['a wrong issuer', async (db) => `Bearer ${await tokenFor(db, { iss: 'someone-else' })}`],
    ['a wrong audience', async (db) => `Bearer ${await tokenFor(db, { aud: 'another-api' })}`],
    ['a token without a db claim', async (db) => `Bearer ${await tokenFor(db, { db: undefined })}`],
  ];

  for (const [name, authorization] of rejected) {
    it(`answers 401 UNAUTHORIZED to ${name}, writing nothing`, async () => {
      const db = freshDatabase();
      const res = await appendWith(db, await authorization(db));
      expect(res.status).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toContain('Bearer');
      expect(await res.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
      expect(await versionOf(db)).toBe(0);
    });
  }

  it('answers 403 FORBIDDEN to a valid token of another tenant, writing nothing', async () => {
    const db = freshDatabase();
    const other = freshDatabase();
    const res = await appendWith(db, `Bearer ${await tokenFor(other)}`);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(await versionOf(db)).toBe(0);
    const query = await call(`/v1/${db}/log`, {
      headers: { Authorization: `Bearer ${await tokenFor(other)}` },
    });
    expect(query.status).toBe(403);
  });
});
