import { isInvalidArgumentError } from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import { createHttpEventStore, type FetchLike, HttpError, toWire } from '../src/index';
import { LONG_POLL_MS } from '../src/long-poll';

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
const token = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ db: 'acme' })}.sig`;

const ok = (value: unknown) =>
  new Response(toWire(value), { status: 200, headers: { 'Content-Type': 'application/json' } });

const event = (version: number) => ({
  type: 'Deposited',
  data: { amount: version },
  version,
  position: version,
  timestamp: 0,
  metadata: {
    messageId: `m-${version}`,
    database: 'acme',
    aggregateType: 'Account',
    aggregateId: '42',
    schemaVersion: 1,
  },
});

/**
 * A server the test drives: plain reads answer from `events`; a request that waits
 * (`wait=`) is held until the test answers it (or its signal aborts it).
 */
const server = () => {
  const held: { url: URL; signal: AbortSignal; answer: (r: Response) => void }[] = [];
  let events: ReturnType<typeof event>[] = [];
  const fetch: FetchLike = (request) => {
    const url = new URL(request.url);
    if (url.searchParams.has('wait')) {
      return new Promise<Response>((resolve, reject) => {
        held.push({ url, signal: request.signal, answer: resolve });
        request.signal.addEventListener('abort', () => reject(request.signal.reason));
      });
    }
    if (url.pathname.endsWith('/version')) return Promise.resolve(ok({ version: events.length }));
    if (url.pathname.endsWith('/log/position')) {
      return Promise.resolve(ok({ position: events.length }));
    }
    if (url.pathname.endsWith('/log')) {
      const after = Number(url.searchParams.get('after') ?? 0);
      const page = events.filter((e) => e.position > after);
      return Promise.resolve(ok({ events: page, position: page.at(-1)?.position ?? after }));
    }
    const from = Number(url.searchParams.get('from') ?? 1);
    return Promise.resolve(ok({ events: events.filter((e) => e.version >= from) }));
  };
  return {
    held,
    fetch,
    append: () => {
      events = [...events, event(events.length + 1)];
    },
  };
};

describe('the HTTP store long-polls its tails', () => {
  it('stream.subscribe waits with GET .../events?from=…&wait=…, reads when it answers, and aborts it on unsubscribe', async () => {
    const api = server();
    const store = createHttpEventStore('https://eventkv.test', { token, fetch: api.fetch });
    const seen: number[] = [];
    const stop = store
      .stream({ type: 'Account', id: '42' })
      .subscribe((events) => seen.push(...events.map((e) => e.version)));
    await expect.poll(() => api.held.length).toBe(1);
    const first = api.held[0]!;
    expect(first.url.pathname).toBe('/v1/acme/streams/Account/42/events');
    expect(Object.fromEntries(first.url.searchParams)).toEqual({
      from: '1',
      limit: '1',
      wait: String(LONG_POLL_MS),
    });
    api.append();
    first.answer(ok({ events: [] }));
    await expect.poll(() => seen).toEqual([1]);
    await expect.poll(() => api.held.length).toBe(2);
    const second = api.held[1]!;
    expect(second.url.searchParams.get('from')).toBe('2');
    expect(second.signal.aborted).toBe(false);
    stop();
    expect(second.signal.aborted).toBe(true);
  });

  it('store.subscribeLog starts at GET .../log/position and waits with GET .../log?after=…&wait=…', async () => {
    const api = server();
    api.append();
    const store = createHttpEventStore('https://eventkv.test', { token, fetch: api.fetch });
    const seen: number[] = [];
    const stop = store.subscribeLog((events) => seen.push(...events.map((e) => e.position!)));
    try {
      await expect.poll(() => api.held.length).toBe(1);
      const first = api.held[0]!;
      expect(first.url.pathname).toBe('/v1/acme/log');
      expect(Object.fromEntries(first.url.searchParams)).toEqual({
        after: '1',
        limit: '1',
        wait: String(LONG_POLL_MS),
      });
      api.append();
      first.answer(ok({ events: [], position: 1 }));
      await expect.poll(() => seen).toEqual([2]);
      await expect.poll(() => api.held.length).toBe(2);
      expect(api.held[1]!.url.searchParams.get('after')).toBe('2');
    } finally {
      stop();
    }
  });

  it('a failed long-poll is reported and retried after a backoff', async () => {
    const api = server();
    const store = createHttpEventStore('https://eventkv.test', {
      token,
      fetch: api.fetch,
      retry: false,
    });
    const errors: unknown[] = [];
    const stop = store.subscribeLog(() => {}, {
      pollIntervalMs: 5,
      onError: (error) => errors.push(error),
    });
    try {
      await expect.poll(() => api.held.length).toBe(1);
      api.held[0]!.answer(new Response('<html>bad gateway</html>', { status: 502 }));
      await expect.poll(() => api.held.length).toBe(2);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(HttpError);
    } finally {
      stop();
    }
  });

  it('subscribeLog refuses bad options, and a store declaring no global log refuses it', async () => {
    const api = server();
    const store = createHttpEventStore('https://eventkv.test', { token, fetch: api.fetch });
    expect(() => store.subscribeLog(() => {}, { after: -1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'options.after' }),
    );
    const noLog = createHttpEventStore('https://eventkv.test', {
      token,
      fetch: api.fetch,
      capabilities: { readLog: false, indexes: [] },
    });
    let refused: unknown;
    try {
      noLog.subscribeLog(() => {});
    } catch (error) {
      refused = error;
    }
    expect(isInvalidArgumentError(refused)).toBe(true);
    await expect(noLog.logPosition()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
