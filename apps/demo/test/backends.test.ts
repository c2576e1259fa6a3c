import { fromWire, HttpError, isHttpError } from '@eventkv/client';
import { createMemoryKv } from '@eventkv/core';
import type { SyncAgent } from '@eventkv/sync';
import { LIVE_SUBPROTOCOL, LIVE_TOKEN_PREFIX } from '@eventkv/sync/edge';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type Backend,
  checkEndpoint,
  isUnreachable,
  loadEdgeSettings,
  NotConnectedError,
  SETTINGS_KEY,
  saveEdgeSettings,
  settingsFromFragment,
} from '../src/backends';
import type { BankEvent } from '../src/domain';
import { explain } from '../src/explain';
import {
  createTestEdge,
  edgeSettings,
  fakeStorage,
  seedAccount,
  type TestEdge,
  testBackend,
  token,
  unauthorizedFetch,
  unreachableFetch,
} from './support';

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
    for (const broken of [
      '{not json',
      'null',
      '42',
      '"text"',
      '{}',
      '{"endpoint":"http://x"}',
      '{"endpoint":1,"token":"t"}',
    ]) {
      localStorage.setItem(SETTINGS_KEY, broken);
      expect(loadEdgeSettings(), broken).toBeUndefined();
    }
  });

  it('keep only the endpoint and the token', () => {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify({ ...edgeSettings, extra: true }));
    expect(loadEdgeSettings()).toEqual(edgeSettings);
  });

  it('are read from where the earlier demo saved them: a browser set up then still syncs', () => {
    localStorage.setItem('eventkv-demo:edge', JSON.stringify(edgeSettings));
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

describe('createBackend', () => {
  const made: Backend[] = [];
  const backend = (options: Parameters<typeof testBackend>[0]) => {
    const built = testBackend(options);
    made.push(built);
    return built;
  };
  afterEach(async () => {
    await Promise.all(made.splice(0).map((b) => b.close()));
  });

  const syncRequests = (requests: readonly Request[], kind: 'push' | 'pull' | 'wait') =>
    requests.filter((r) => new URL(r.url).pathname.endsWith(`/sync/${kind}`));

  it('keeps the accounts on this device while no Worker is set up, and sends nothing', async () => {
    const sent: unknown[] = [];
    const local = backend({
      settings: undefined,
      fetch: async (input) => {
        sent.push(input);
        throw new TypeError('Failed to fetch');
      },
    });
    expect(local.settings).toBeUndefined();
    expect(local.endpoint).toBeUndefined();
    await seedAccount(local.ledger, { deposits: [500] });
    expect((await local.ledger.load('acc-1')).state.balance).toBe(500);
    expect(await local.ledger.listAccounts()).toMatchObject([{ id: 'acc-1', pending: true }]);
    expect(await local.agent.status()).toMatchObject({
      pending: 2,
      conflicts: 0,
      role: 'leader',
      connection: 'off',
    });
    // Nothing to sync with: the changes wait in the outbox.
    await expect(local.store.sync.syncNow()).rejects.toBeInstanceOf(NotConnectedError);
    expect((await local.agent.status()).pending).toBe(2);
    expect(sent).toEqual([]);
  });

  it('syncs with the Worker at the endpoint, sending the token, so that another device sees it', async () => {
    const edge = createTestEdge();
    const synced = backend({ settings: edgeSettings, edge });
    expect(synced.settings).toEqual(edgeSettings);
    expect(synced.endpoint).toBe('http://127.0.0.1:8787');
    await seedAccount(synced.ledger, { deposits: [500] });
    await synced.agent.syncNow();
    expect(await synced.agent.status()).toMatchObject({ pending: 0, conflicts: 0 });
    expect(await synced.ledger.listAccounts()).toMatchObject([{ id: 'acc-1' }]);
    expect((await synced.ledger.listAccounts())[0]!.pending).toBeUndefined();

    expect(syncRequests(edge.requests, 'push').length).toBeGreaterThan(0);
    for (const request of edge.requests) {
      const url = new URL(request.url);
      expect(url.origin).toBe('http://127.0.0.1:8787');
      expect(url.pathname).toMatch(/^\/v1\/demo\/sync\/(push|pull|wait)$/);
      expect(request.headers.get('Authorization')).toBe(`Bearer ${token()}`);
    }

    const other = edge.device('bob');
    await other.store.sync.syncNow();
    expect((await other.ledger.load('acc-1')).state).toMatchObject({
      owner: 'Ada Lovelace',
      balance: 500,
    });
  });

  it('brings in the Worker’s events and tells watchChanges, until the watch is removed', async () => {
    const edge = createTestEdge();
    const other = edge.device('bob');
    await seedAccount(other.ledger, { id: 'bob-1', owner: 'Bob', userId: 'bob' });
    await other.store.sync.syncNow();

    const synced = backend({ settings: edgeSettings, edge });
    let changes = 0;
    const stop = synced.watchChanges(() => changes++);
    await synced.agent.syncNow();
    expect(changes).toBeGreaterThan(0);
    expect(await synced.ledger.listAccounts()).toEqual([
      expect.objectContaining({ id: 'bob-1', owner: 'Bob' }),
    ]);

    stop();
    const seen = changes;
    await seedAccount(synced.ledger, { id: 'mine' });
    expect(changes).toBe(seen);
  });

  /** Bob's account on the Worker, and Bob's device to change it from. */
  const bobsAccount = async (edge: TestEdge) => {
    const other = edge.device('bob');
    await seedAccount(other.ledger, { deposits: [100], userId: 'bob' });
    await other.store.sync.syncNow();
    const deposit = async (amount: number) => {
      await other.ledger.execute(
        await other.ledger.load('acc-1'),
        { kind: 'deposit', amount },
        { userId: 'bob' },
      );
      await other.store.sync.syncNow();
    };
    return { deposit };
  };

  it('follows the Worker without being asked: a live socket the Worker pokes', async () => {
    const edge = createTestEdge();
    const bob = await bobsAccount(edge);
    const synced = backend({ settings: edgeSettings, edge });
    await vi.waitFor(async () => expect((await synced.agent.status()).connection).toBe('live'));
    await vi.waitFor(async () => expect((await synced.ledger.load('acc-1')).version).toBe(2));
    // The token rides as a subprotocol: a browser cannot set headers on a WebSocket.
    expect(edge.sockets).toHaveLength(1);
    const [socket] = edge.sockets;
    expect(socket!.url).toMatch(/^ws:\/\/127\.0\.0\.1:8787\/v1\/demo\/sync\/live\?clientId=/);
    expect(socket!.protocols).toEqual([LIVE_SUBPROTOCOL, `${LIVE_TOKEN_PREFIX}${token()}`]);

    // Another device's change: the edge pokes the socket, and the replica pulls.
    await bob.deposit(50);
    await vi.waitFor(async () =>
      expect((await synced.ledger.load('acc-1')).state.balance).toBe(150),
    );
  });

  it('long-polls the Worker where there is no WebSocket', async () => {
    const edge = createTestEdge();
    const bob = await bobsAccount(edge);
    const synced = backend({ settings: edgeSettings, edge, sockets: false });
    await vi.waitFor(async () => expect((await synced.ledger.load('acc-1')).version).toBe(2));
    expect((await synced.agent.status()).connection).toBe('polling');

    // The edge answers the waiting request when another device's change arrives.
    await bob.deposit(50);
    await vi.waitFor(async () =>
      expect((await synced.ledger.load('acc-1')).state.balance).toBe(150),
    );
    const waits = syncRequests(edge.requests, 'wait');
    expect(waits.length).toBeGreaterThan(0);
    expect(edge.sockets).toEqual([]);
    // It waits from the replica's cursor (once it has one), so the edge answers only news.
    const last = fromWire(await waits.at(-1)!.text()) as { cursor?: unknown };
    expect(last.cursor).toBeDefined();

    // Closed, it stops waiting.
    await synced.close();
    expect(syncRequests(edge.requests, 'wait').every((r) => r.signal.aborted)).toBe(true);
  });

  it('syncs what was kept on this device once a Worker is set up, with a new agent', async () => {
    const edge = createTestEdge();
    const local = backend({ settings: undefined, edge });
    await seedAccount(local.ledger, { deposits: [700] });
    const first = local.agent;
    const heard: SyncAgent<BankEvent>[] = [];
    local.onAgent((agent) => heard.push(agent));

    const agent = await local.connect(edgeSettings);
    expect(agent).not.toBe(first);
    expect(local.agent).toBe(agent);
    expect(heard).toEqual([agent]);
    expect(local.settings).toEqual(edgeSettings);
    expect(local.endpoint).toBe(edgeSettings.endpoint);

    await agent.syncNow();
    expect((await agent.status()).pending).toBe(0);
    const other = edge.device('bob');
    await other.store.sync.syncNow();
    expect((await other.ledger.load('acc-1')).state.balance).toBe(700);
  });

  it('sends the new endpoint and token after a reconnect', async () => {
    const first = createTestEdge();
    const second = createTestEdge();
    const synced = backend({
      settings: edgeSettings,
      // Two Workers: the endpoint picks which.
      fetch: (input, init) => {
        const url = new Request(input, init).url;
        return (url.startsWith('https://worker.example') ? second : first).fetch(input, init);
      },
    });
    await seedAccount(synced.ledger, { id: 'before' });
    await synced.agent.syncNow();
    const renewed = { endpoint: 'https://worker.example', token: token('carol') };
    const heard: string[] = [];
    synced.onAgent(() => heard.push('agent'));
    await synced.connect(renewed);
    expect(heard).toEqual(['agent']);
    await seedAccount(synced.ledger, { id: 'after', userId: 'carol' });
    await synced.agent.syncNow();
    const pushes = syncRequests(second.requests, 'push');
    expect(pushes.length).toBeGreaterThan(0);
    for (const push of pushes) {
      expect(push.headers.get('Authorization')).toBe(`Bearer ${token('carol')}`);
    }
    // The new Worker has what this device had not given the old one: the account opened since.
    const seen = second.device('dave');
    await seen.store.sync.syncNow();
    expect((await seen.ledger.load('after')).version).toBe(1);
  });

  it('fails a sync as unreachable when the Worker cannot be reached, and keeps the changes', async () => {
    const unreachable = backend({ settings: edgeSettings, fetch: unreachableFetch });
    await seedAccount(unreachable.ledger);
    const error = await unreachable.agent.syncNow().catch((e: unknown) => e);
    expect(isUnreachable(error)).toBe(true);
    expect(explain(error, unreachable.endpoint).kind).toBe('unreachable');
    const status = await unreachable.agent.status();
    expect(status.pending).toBe(1);
    expect(status.lastError).toBeDefined();
    expect(await unreachable.ledger.listAccounts()).toMatchObject([{ id: 'acc-1', pending: true }]);
  });

  it('reports a refused token as an HTTP error, not as unreachable', async () => {
    const refused = backend({ settings: edgeSettings, fetch: unauthorizedFetch });
    await seedAccount(refused.ledger);
    const error = await refused.agent.syncNow().catch((e: unknown) => e);
    expect(isHttpError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    expect(isUnreachable(error)).toBe(false);
    expect(explain(error, edgeSettings.endpoint)).toEqual({
      kind: 'failure',
      message: 'The endpoint refused the token (UNAUTHORIZED): mint a new one and reconnect.',
    });
    expect((await refused.agent.status()).pending).toBe(1);
  });

  it('asks the browser to keep its storage at the first change', async () => {
    const storage = fakeStorage(true);
    const local = backend({ settings: undefined, storage, kv: createMemoryKv() });
    await vi.waitFor(async () => expect((await local.agent.status()).persisted).toBe(false));
    expect(storage.asked).toBe(0);
    await seedAccount(local.ledger);
    await vi.waitFor(async () => expect((await local.agent.status()).persisted).toBe(true));
    expect(storage.asked).toBe(1);
  });
});
