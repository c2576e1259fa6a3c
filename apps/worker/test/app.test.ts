import { toWire } from '@eventkv/client';
import { createEventStore, createMemoryKv } from '@eventkv/core';
import { createFaultyKv } from '@eventkv/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { type ApiSettings, createApp, type Env, routingOf, settingsFromEnv } from '../src/index';
import { SECRET, tokenFor } from './helpers';

const settings = (overrides: Partial<ApiSettings> = {}): ApiSettings => ({
  auth: { secret: SECRET, issuer: 'eventkv', audience: 'eventkv-api' },
  maxBodyBytes: 1024,
  rateLimitPerMinute: 0,
  corsOrigins: [],
  ...overrides,
});

const env = {} as Env;

const append = async (app: ReturnType<typeof createApp>, db = 'acme') =>
  app.request(
    `/v1/${db}/streams/Account/1/events`,
    {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${await tokenFor(db)}`,
      },
      body: toWire({ events: [{ type: 'Opened' }] }),
    },
    env,
  );

describe('createApp', () => {
  it('serves the store it is given', async () => {
    const store = createEventStore({ kv: createMemoryKv() });
    const app = createApp({ storeFor: () => store, settings: () => settings() });
    expect((await append(app)).status).toBe(201);
    expect(await store.stream({ database: 'acme', type: 'Account', id: '1' }).version()).toBe(1);
  });

  it('answers 429 with Retry-After once a database passes its limit, per database', async () => {
    const store = createEventStore({ kv: createMemoryKv() });
    const app = createApp({
      storeFor: () => store,
      settings: () => settings({ rateLimitPerMinute: 2 }),
    });
    expect((await append(app)).status).toBe(201);
    expect((await append(app)).status).toBe(201);
    const limited = await append(app);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect(await store.stream({ database: 'acme', type: 'Account', id: '1' }).version()).toBe(2);
    expect((await append(app, 'globex')).status).toBe(201);
  });

  it('answers 503 STORAGE_FAILURE when the backend fails, acknowledging nothing', async () => {
    const kv = createFaultyKv(createMemoryKv());
    const store = createEventStore({ kv });
    const app = createApp({ storeFor: () => store, settings: () => settings() });
    kv.inject({ nth: 1, when: 'before', operations: ['commit'] });
    const res = await append(app);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'STORAGE_FAILURE' } });
    expect(await store.stream({ database: 'acme', type: 'Account', id: '1' }).version()).toBe(0);
  });

  it('answers 500 INTERNAL to an unexpected failure without leaking its details', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const app = createApp({
      storeFor: () => {
        throw new Error('secret internals');
      },
      settings: () => settings(),
    });
    const res = await append(app);
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('INTERNAL');
    expect(body.error.message).not.toContain('secret internals');
    expect(logged).toHaveBeenCalledOnce();
    logged.mockRestore();
  });

  it('takes any secret as an HMAC key, even one that looks like a PEM marker', async () => {
    const secret = 'my-PUBLIC-KEY-lookalike-secret-0123456789';
    const store = createEventStore({ kv: createMemoryKv() });
    const app = createApp({
      storeFor: () => store,
      settings: () => settings({ auth: { secret, issuer: 'eventkv', audience: 'eventkv-api' } }),
    });
    const res = await app.request(
      '/v1/acme/streams/Account/1/version',
      { headers: { Authorization: `Bearer ${await tokenFor('acme', {}, secret)}` } },
      env,
    );
    expect(res.status).toBe(200);
  });

  it('fails closed when no secret (or a short one) is configured', async () => {
    const store = createEventStore({ kv: createMemoryKv() });
    for (const secret of [undefined, 'short']) {
      const app = createApp({
        storeFor: () => store,
        settings: () => settings({ auth: { secret, issuer: 'eventkv', audience: 'eventkv-api' } }),
      });
      const res = await append(app);
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ error: { code: 'AUTH_NOT_CONFIGURED' } });
    }
    expect(await store.stream({ database: 'acme', type: 'Account', id: '1' }).version()).toBe(0);
  });
});

describe('CORS', () => {
  const store = createEventStore({ kv: createMemoryKv() });
  const app = createApp({
    storeFor: () => store,
    settings: () => settings({ corsOrigins: ['https://app.example'] }),
  });

  it('answers preflights from allowed origins without a token', async () => {
    const res = await app.request(
      '/v1/acme/streams/Account/1/events',
      {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://app.example',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization, content-type, eventkv-session',
        },
      },
      env,
    );
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('https://app.example');
    expect(res.headers.get('Access-Control-Allow-Headers')).toContain('Eventkv-Session');
  });

  it('lets allowed origins read answers and errors, and no one else', async () => {
    const ok = await app.request(
      '/v1/acme/streams/Account/1/version',
      {
        headers: {
          Origin: 'https://app.example',
          Authorization: `Bearer ${await tokenFor('acme')}`,
        },
      },
      env,
    );
    expect(ok.headers.get('Access-Control-Allow-Origin')).toBe('https://app.example');
    expect(ok.headers.get('Access-Control-Expose-Headers')).toContain('ETag');
    const denied = await app.request(
      '/v1/acme/streams/Account/1/version',
      { headers: { Origin: 'https://app.example' } },
      env,
    );
    expect(denied.status).toBe(401);
    expect(denied.headers.get('Access-Control-Allow-Origin')).toBe('https://app.example');
    const stranger = await app.request(
      '/v1/acme/streams/Account/1/version',
      {
        headers: {
          Origin: 'https://evil.example',
          Authorization: `Bearer ${await tokenFor('acme')}`,
        },
      },
      env,
    );
    expect(stranger.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });
});

describe('settingsFromEnv', () => {
  it('reads secrets and vars, with defaults for what is unset or mistyped', () => {
    expect(settingsFromEnv({ AUTH_SECRET: 's' } as Env)).toEqual({
      auth: { secret: 's', issuer: 'eventkv', audience: 'eventkv-api' },
      maxBodyBytes: 8 * 1024 * 1024,
      rateLimitPerMinute: 600,
      corsOrigins: [],
    });
    const custom = settingsFromEnv({
      AUTH_ISSUER: 'me',
      AUTH_AUDIENCE: 'you',
      MAX_BODY_BYTES: '2048',
      RATE_LIMIT_PER_MINUTE: '0',
      CORS_ORIGINS: 'https://a.example, https://b.example',
    } as Env);
    expect(custom).toEqual({
      auth: { secret: undefined, issuer: 'me', audience: 'you' },
      maxBodyBytes: 2048,
      rateLimitPerMinute: 0,
      corsOrigins: ['https://a.example', 'https://b.example'],
    });
    expect(
      settingsFromEnv({ MAX_BODY_BYTES: 'lots', RATE_LIMIT_PER_MINUTE: '-5' } as Env),
    ).toMatchObject({
      maxBodyBytes: 8 * 1024 * 1024,
      rateLimitPerMinute: 600,
    });
  });
});

describe('routingOf', () => {
  it("routes by database only when ROUTING is 'database'", () => {
    expect(routingOf({ ROUTING: 'database' } as Env)).toBe('database');
    expect(routingOf({ ROUTING: 'stream' } as Env)).toBe('stream');
    expect(routingOf({} as Env)).toBe('stream');
    expect(routingOf({ ROUTING: 'tenant' } as Env)).toBe('stream');
  });
});
