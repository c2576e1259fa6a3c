import { HttpError, isHttpError } from '@eventkv/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  checkEndpoint,
  createEdgeBackend,
  EDGE_POLL_MS,
  isUnreachable,
  loadEdgeSettings,
  saveEdgeSettings,
  settingsFromFragment,
} from '../src/backends';
import { explain } from '../src/explain';
import { edgeSettings, okResponse, token, unauthorizedFetch, unreachableFetch } from './support';

beforeEach(() => localStorage.clear());

describe('settingsFromFragment', () => {
  it('reads the endpoint and token that `pnpm start` hands over', () => {
    const hash = `#connect=${encodeURIComponent('http://127.0.0.1:8787')}&token=${token()}`;
    expect(settingsFromFragment(hash)).toEqual({
      endpoint: 'http://127.0.0.1:8787',
      token: token(),
    });
  });

  it('carries nothing for any other fragment, or when a part is missing', () => {
    expect(settingsFromFragment('')).toBeUndefined();
    expect(settingsFromFragment('#/local')).toBeUndefined();
    expect(settingsFromFragment('#/edge/account/x')).toBeUndefined();
    expect(settingsFromFragment('#connect=http%3A%2F%2Fx')).toBeUndefined();
    expect(settingsFromFragment('#connect=&token=abc')).toBeUndefined();
    expect(settingsFromFragment('#token=abc&connect=http%3A%2F%2Fx')).toBeUndefined();
  });
});

describe('checkEndpoint', () => {
  it('accepts http and https URLs', () => {
    expect(checkEndpoint('http://127.0.0.1:8787')).toBeUndefined();
    expect(checkEndpoint('https://ledger.example/api')).toBeUndefined();
  });

  it('says what is wrong with anything else', () => {
    expect(checkEndpoint('')).toBe('Enter a full URL, such as http://127.0.0.1:8787.');
    expect(checkEndpoint('127.0.0.1:8787')).toBe(
      'Enter a full URL, such as http://127.0.0.1:8787.',
    );
    expect(checkEndpoint('not a url')).toBe('Enter a full URL, such as http://127.0.0.1:8787.');
    expect(checkEndpoint('ftp://127.0.0.1')).toBe('Use an http or https URL.');
    expect(checkEndpoint('localhost:8787')).toBe('Use an http or https URL.');
  });
});

describe('saved endpoint settings', () => {
  it('are kept in localStorage', () => {
    expect(loadEdgeSettings()).toBeUndefined();
    saveEdgeSettings(edgeSettings);
    expect(loadEdgeSettings()).toEqual(edgeSettings);
    saveEdgeSettings({ endpoint: 'https://other.example', token: 't' });
    expect(loadEdgeSettings()).toEqual({ endpoint: 'https://other.example', token: 't' });
  });

  it('can use another storage', () => {
    saveEdgeSettings(edgeSettings, sessionStorage);
    expect(loadEdgeSettings(sessionStorage)).toEqual(edgeSettings);
    expect(loadEdgeSettings()).toBeUndefined();
    sessionStorage.clear();
  });

  it('are ignored when the stored value is broken or of the wrong shape', () => {
    saveEdgeSettings(edgeSettings);
    const key = Array.from({ length: localStorage.length }, (_, i) => localStorage.key(i)!).find(
      (name) => localStorage.getItem(name)?.includes(edgeSettings.endpoint),
    )!;
    for (const broken of [
      '{not json',
      'null',
      '42',
      '"text"',
      '{}',
      '{"endpoint":"http://x"}',
      '{"endpoint":1,"token":"t"}',
    ]) {
      localStorage.setItem(key, broken);
      expect(loadEdgeSettings(), broken).toBeUndefined();
    }
  });

  it('keep only the endpoint and the token', () => {
    saveEdgeSettings(edgeSettings);
    const key = localStorage.key(0)!;
    localStorage.setItem(key, JSON.stringify({ ...edgeSettings, extra: true }));
    expect(loadEdgeSettings()).toEqual(edgeSettings);
  });
});

describe('isUnreachable', () => {
  it('is true only for a request that got no response', () => {
    expect(isUnreachable(new HttpError('NETWORK_FAILURE', 0, 'the request failed'))).toBe(true);
    expect(isUnreachable(new HttpError('UNAUTHORIZED', 401, 'bad token'))).toBe(false);
    expect(isUnreachable(new HttpError('INTERNAL', 500, 'boom'))).toBe(false);
    expect(isUnreachable(new TypeError('Failed to fetch'))).toBe(false);
    expect(isUnreachable(undefined)).toBe(false);
    expect(isUnreachable('NETWORK_FAILURE')).toBe(false);
  });
});

describe('createEdgeBackend', () => {
  afterEach(() => vi.useRealTimers());

  it('names the endpoint and sends the token to it', async () => {
    const requests: Request[] = [];
    const backend = createEdgeBackend(edgeSettings, async (request) => {
      requests.push(request as Request);
      return okResponse({ events: [] });
    });
    expect(backend.mode).toBe('edge');
    expect(backend.label).toBe('the Worker at http://127.0.0.1:8787');
    expect(backend.endpoint).toBe('http://127.0.0.1:8787');
    expect(await backend.ledger.listAccounts()).toEqual([]);
    expect(requests).toHaveLength(1);
    const url = new URL(requests[0]!.url);
    expect(url.origin).toBe('http://127.0.0.1:8787');
    expect(url.pathname).toBe('/v1/demo/query/eventType/AccountOpened');
    expect(requests[0]!.headers.get('Authorization')).toBe(`Bearer ${token()}`);
    backend.close();
  });

  it('fails every operation as unreachable when the endpoint cannot be reached', async () => {
    const { ledger } = createEdgeBackend(edgeSettings, unreachableFetch);
    const operations: Promise<unknown>[] = [
      ledger.listAccounts(),
      ledger.load('x'),
      ledger.timeline('x'),
      ledger.snapshotVersions('x'),
      ledger.audit({ by: 'user', value: 'alice' }),
      ledger.execute(
        { id: 'x', state: { status: 'open', owner: 'A', currency: 'EUR', balance: 0 }, version: 1 },
        { kind: 'deposit', amount: 100 },
        { userId: 'alice' },
      ),
    ];
    // Every outcome is taken as it comes (the client retries before it gives up).
    const outcomes = operations.map((operation) =>
      operation.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    for (const outcome of outcomes) {
      const error = await outcome;
      expect(isUnreachable(error)).toBe(true);
      expect(explain(error, edgeSettings.endpoint).kind).toBe('unreachable');
    }
  });

  it('reports a refused token as an HTTP error, not as unreachable', async () => {
    const { ledger } = createEdgeBackend(edgeSettings, unauthorizedFetch);
    const error = await ledger.listAccounts().catch((e: unknown) => e);
    expect(isHttpError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    expect(isUnreachable(error)).toBe(false);
    expect(explain(error, edgeSettings.endpoint)).toEqual({
      kind: 'failure',
      message: 'The endpoint refused the token (UNAUTHORIZED): mint a new one and reconnect.',
    });
  });

  it('polls for changes until stopped (the HTTP API has no push)', () => {
    vi.useFakeTimers();
    const backend = createEdgeBackend(edgeSettings, unreachableFetch);
    const listener = vi.fn();
    const stop = backend.watchChanges(listener);
    vi.advanceTimersByTime(EDGE_POLL_MS - 1);
    expect(listener).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(listener).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(EDGE_POLL_MS * 2);
    expect(listener).toHaveBeenCalledTimes(3);
    stop();
    vi.advanceTimersByTime(EDGE_POLL_MS * 5);
    expect(listener).toHaveBeenCalledTimes(3);
  });
});
