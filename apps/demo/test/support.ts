import { fromWire, toWire } from '@eventkv/client';
import { type Clock, createEventStore, createMemoryKv, type Kv } from '@eventkv/core';
import { createReplica } from '@eventkv/core/replica';
import {
  createEdgeRemote,
  createSyncEdge,
  createSyncedStore,
  type LiveSocket,
  type LiveSocketEvent,
  type LocalSyncEdge,
  type StorageLike,
  type SyncedStore,
} from '@eventkv/sync';
import { LIVE_SUBPROTOCOL, LIVE_TOKEN_PREFIX, PING, POKE, PONG } from '@eventkv/sync/edge';
import {
  type Backend,
  createBackend,
  DATABASE,
  type EdgeSettings,
  NotConnectedError,
} from '../src/backends';
import { ACCOUNT_TYPE, type BankEvent } from '../src/domain';
import { createLedger, type Ledger } from '../src/ledger';

/** A ledger over the in-memory store (no sync); `kv` is exposed so that a second ledger can share it. */
export const memoryLedger = (
  kv: Kv = createMemoryKv(),
  clock?: Clock,
): { kv: Kv; ledger: Ledger } => ({
  kv,
  ledger: createLedger(createEventStore<BankEvent>({ kv, ...(clock ? { clock } : {}) })),
});

/** Opens an account and deposits the amounts, as `userId`; returns its id and version. */
export const seedAccount = async (
  ledger: Ledger,
  {
    id = 'acc-1',
    owner = 'Ada Lovelace',
    currency = 'EUR',
    deposits = [] as number[],
    userId = 'alice',
  } = {},
): Promise<{ id: string; version: number }> => {
  let account = await ledger.load(id);
  await ledger.execute(account, { kind: 'open', owner, currency }, { userId });
  for (const amount of deposits) {
    account = await ledger.load(id);
    await ledger.execute(account, { kind: 'deposit', amount }, { userId });
  }
  return { id, version: (await ledger.load(id)).version };
};

export const accountRef = (id: string) => ({ type: ACCOUNT_TYPE, id });

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

/**
 * An unsigned token with the claims the Worker reads (`db`: the database, `sub`: the user).
 * The client only reads the `db` claim; the test edge below reads both and verifies nothing.
 */
export const token = (sub = 'alice', db = DATABASE) =>
  `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ db, sub })}.signature`;

const claims = (bearer: string): { db?: string; sub?: string } => {
  try {
    return JSON.parse(atob(bearer.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return {};
  }
};

export const edgeSettings: EdgeSettings = { endpoint: 'http://127.0.0.1:8787', token: token() };

/** A fetch that never reaches anything, as when the Worker is not running. */
export const unreachableFetch: typeof fetch = async () => {
  throw new TypeError('Failed to fetch');
};

/** A fetch that answers every request as the Worker does for a bad token. */
export const unauthorizedFetch: typeof fetch = async () =>
  errorResponse(401, 'UNAUTHORIZED', 'The bearer token is invalid.');

const errorResponse = (status: number, code: string, message: string) =>
  new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });

/** The Worker's sync routes in process: one edge, reached over a `fetch` or directly. */
export interface TestEdge {
  readonly edge: LocalSyncEdge;
  /**
   * Answers `POST {endpoint}/v1/{db}/sync/push|pull|wait` as the Worker does, for the
   * token's `db` and `sub`: what `createBackend`'s HTTP remote sends.
   */
  readonly fetch: typeof fetch;
  /** Every request the fetch was given, in order (copies: their bodies can be read). */
  readonly requests: Request[];
  /**
   * The Worker's live sockets (`/v1/{db}/sync/live`): each opens, is poked when the edge's
   * log grows by another replica's push, and answers pings.
   */
  readonly WebSocket: new (
    url: string,
    protocols: string[],
  ) => LiveSocket;
  /** Every socket opened, with the address and subprotocols it was opened with. */
  readonly sockets: { readonly url: string; readonly protocols: readonly string[] }[];
  /**
   * While false, the fetch fails and sockets close unopened, as with an unreachable Worker
   * (and while `navigator.onLine` says the device is offline).
   */
  reachable: boolean;
  /** Holds every push until the returned function is called (then they go through). */
  holdPushes(): () => void;
  /** Another device of the database, syncing with this edge directly. */
  device(user: string): Device;
}

export interface Device {
  readonly store: SyncedStore<BankEvent>;
  readonly ledger: Ledger;
  readonly kv: Kv;
}

export const createTestEdge = (): TestEdge => {
  const edge = createSyncEdge({ replica: createReplica({ kv: createMemoryKv() }) });
  const requests: Request[] = [];
  const sockets: TestEdge['sockets'] = [];
  let held: Promise<void> | undefined;

  class TestSocket implements LiveSocket {
    readyState = 0;
    readonly #listeners = new Map<string, Set<(event: LiveSocketEvent) => void>>();
    #stop = () => {};

    constructor(url: string, protocols: string[]) {
      sockets.push({ url, protocols });
      const address = new URL(url);
      const bearer = protocols
        .find((p) => p.startsWith(LIVE_TOKEN_PREFIX))
        ?.slice(LIVE_TOKEN_PREFIX.length);
      const { db } = claims(bearer ?? '');
      const refused =
        !protocols.includes(LIVE_SUBPROTOCOL) ||
        address.pathname !== `/v1/${db}/sync/live` ||
        (address.protocol !== 'ws:' && address.protocol !== 'wss:');
      const clientId = address.searchParams.get('clientId') ?? undefined;
      setTimeout(() => {
        if (this.readyState !== 0) return;
        if (refused || !test.reachable || !navigator.onLine) return this.#closed(1006);
        this.readyState = 1;
        this.#emit('open', {});
        // Poked on every change but the ones this replica's own pushes made.
        this.#stop = edge.onChange((change) => {
          if (change.clientId === undefined || change.clientId !== clientId) {
            this.#emit('message', { data: POKE });
          }
        });
      });
    }

    send(data: string) {
      if (this.readyState === 1 && data === PING) {
        setTimeout(() => this.#emit('message', { data: PONG }));
      }
    }

    close(code = 1000) {
      if (this.readyState < 2) this.#closed(code);
    }

    addEventListener(type: string, listener: (event: LiveSocketEvent) => void) {
      const listeners = this.#listeners.get(type) ?? new Set();
      listeners.add(listener);
      this.#listeners.set(type, listeners);
    }

    #closed(code: number) {
      this.readyState = 3;
      this.#stop();
      this.#emit('close', { code });
    }

    #emit(type: string, event: LiveSocketEvent) {
      for (const listener of this.#listeners.get(type) ?? []) listener(event);
    }
  }

  const test: TestEdge = {
    edge,
    requests,
    sockets,
    WebSocket: TestSocket,
    reachable: true,
    holdPushes() {
      let release = () => {};
      held = new Promise<void>((resolve) => {
        release = resolve;
      });
      return () => {
        held = undefined;
        release();
      };
    },
    fetch: async (input, init) => {
      const request = new Request(input, init);
      requests.push(request.clone());
      if (!test.reachable || !navigator.onLine) throw new TypeError('Failed to fetch');
      const bearer = request.headers.get('Authorization')?.replace(/^Bearer /, '') ?? '';
      const { db, sub } = claims(bearer);
      if (db === undefined || sub === undefined) {
        return errorResponse(401, 'UNAUTHORIZED', 'The bearer token is invalid.');
      }
      const match = new URL(request.url).pathname.match(/^\/v1\/([^/]+)\/sync\/(push|pull|wait)$/);
      if (request.method !== 'POST' || !match || decodeURIComponent(match[1]!) !== db) {
        return errorResponse(404, 'ROUTE_NOT_FOUND', `No route for ${request.url}.`);
      }
      const kind = match[2] as 'push' | 'pull' | 'wait';
      if (kind === 'push' && held) await held;
      const body = fromWire(await request.text());
      const principal = { database: db, user: sub };
      try {
        const answer =
          kind === 'wait'
            ? await edge.wait(principal, body, request.signal)
            : await edge[kind](principal, body);
        return new Response(toWire(answer), { headers: { 'Content-Type': 'application/json' } });
      } catch (error) {
        if (request.signal.aborted) throw error;
        return errorResponse(500, 'INTERNAL', error instanceof Error ? error.message : 'failed');
      }
    },
    device(user) {
      const kv = createMemoryKv();
      const store = createSyncedStore<BankEvent>({
        kv,
        remote: createEdgeRemote(edge, { database: DATABASE, user }),
      });
      return { store, ledger: createLedger(store), kv };
    },
  };
  return test;
};

/**
 * Another tab of this browser: another store over the same replica (`kv`), syncing with
 * `edge` when given (as `user`) and refusing to sync without one, as the demo does while no
 * Worker is set up.
 */
export const otherTab = (kv: Kv, edge?: TestEdge, user = 'alice'): Device => {
  const store = createSyncedStore<BankEvent>({
    kv,
    remote: edge
      ? createEdgeRemote(edge.edge, { database: DATABASE, user })
      : {
          database: DATABASE,
          push: async () => {
            throw new NotConnectedError();
          },
          pull: async () => {
            throw new NotConnectedError();
          },
        },
  });
  return { store, ledger: createLedger(store), kv };
};

/**
 * The demo's backend as the app builds it, on the in-memory store instead of IndexedDB,
 * talking to `edge` through its fetch and its live sockets (`sockets: false`: none, the
 * agent long-polls), and without Web Locks or a tab channel: this tab leads, alone.
 */
export const testBackend = ({
  settings,
  edge,
  kv = createMemoryKv(),
  fetch = edge?.fetch,
  sockets = true,
  storage,
}: {
  settings: EdgeSettings | undefined;
  edge?: TestEdge;
  kv?: Kv;
  fetch?: typeof globalThis.fetch | undefined;
  sockets?: boolean;
  /** Persistent storage as the browser answers it (absent: it cannot be told). */
  storage?: StorageLike;
}): Backend =>
  createBackend({
    settings,
    kv,
    ...(fetch === undefined ? {} : { fetch }),
    WebSocket: sockets && edge ? edge.WebSocket : false,
    environment: {
      locks: undefined,
      channel: undefined,
      storage,
      backgroundSync: undefined,
    },
  });

/** Persistent storage that the browser grants (or refuses) when asked. */
export const fakeStorage = (grant: boolean): StorageLike & { asked: number } => {
  let persisted = false;
  const storage = {
    asked: 0,
    persisted: async () => persisted,
    persist: async () => {
      storage.asked++;
      persisted = grant;
      return grant;
    },
  };
  return storage;
};
