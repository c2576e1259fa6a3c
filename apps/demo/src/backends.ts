import { isHttpError } from '@eventkv/client';
import type { Kv } from '@eventkv/core';
import { createIndexedDbKv } from '@eventkv/indexeddb';
import {
  createHttpSyncRemote,
  createSyncedStore,
  type LiveSocket,
  type SyncAgent,
  type SyncAgentEnvironment,
  type SyncedStore,
  type SyncRemote,
  startSync,
} from '@eventkv/sync';
import { keepSettingsForBackgroundSync } from './background-sync';
import type { BankEvent } from './domain';
import { createLedger, type Ledger } from './ledger';
import { DATABASE, REPLICA_DATABASE_NAME } from './names';

export { DATABASE, REPLICA_DATABASE_NAME } from './names';

/** Where the replica syncs to. */
export interface EdgeSettings {
  /** The Worker's base URL, e.g. `http://127.0.0.1:8787`. */
  readonly endpoint: string;
  /** A bearer token whose `db` claim is `demo` and `sub` the user. */
  readonly token: string;
}

/** Thrown by the replica's remote while no Worker is set up. */
export class NotConnectedError extends Error {
  override readonly name = 'NotConnectedError';
  constructor() {
    super('No Worker is set up: changes stay on this device until one is.');
  }
}

export interface Backend {
  readonly store: SyncedStore<BankEvent>;
  readonly ledger: Ledger;
  /** The Worker's URL when one is set up: failure messages name it. */
  readonly endpoint: string | undefined;
  /** The tab's share of syncing: leader or follower, status, conflicts, `syncNow()`. */
  readonly agent: SyncAgent<BankEvent>;
  /** The Worker it syncs with; undefined: none set up (everything stays here). */
  readonly settings: EdgeSettings | undefined;
  /** Syncs with another Worker (or the same one with a new token) from now on. */
  connect(settings: EdgeSettings): Promise<SyncAgent<BankEvent>>;
  /** Hears the agent in use (a new one after `connect`); returns its removal. */
  onAgent(listener: (agent: SyncAgent<BankEvent>) => void): () => void;
  /**
   * Calls `listener` whenever the replica changed: this tab's appends, another tab's, and
   * the Worker's events a sync brought. Returns its removal.
   */
  watchChanges(listener: () => void): () => void;
  close(): Promise<void>;
}

export interface BackendOptions {
  readonly settings?: EdgeSettings | undefined;
  /** The replica's storage (default IndexedDB, `REPLICA_DATABASE_NAME`). */
  readonly kv?: Kv;
  /** Tests: the network and the platform. */
  readonly fetch?: typeof fetch;
  readonly WebSocket?: (new (url: string, protocols: string[]) => LiveSocket) | false;
  readonly environment?: SyncAgentEnvironment;
  /** Tests: the agent's period (default one minute) and name. */
  readonly intervalMs?: number;
  readonly name?: string;
}

/**
 * The demo's one store: this browser's IndexedDB, synced with the Worker whenever one is set
 * up and the network allows. Commands work the same offline; what waits is in the outbox.
 */
export const createBackend = (options: BackendOptions = {}): Backend => {
  const kv = options.kv ?? createIndexedDbKv({ name: REPLICA_DATABASE_NAME });
  let settings = options.settings;
  let http: SyncRemote | undefined;
  const makeHttp = (next: EdgeSettings): SyncRemote =>
    createHttpSyncRemote(next.endpoint, {
      token: next.token,
      database: DATABASE,
      // A person is waiting for the status: a short retry; the agent tries again later.
      retry: { maxAttempts: 2, maxElapsedMs: 2000 },
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.WebSocket === undefined ? {} : { WebSocket: options.WebSocket }),
    });
  // The service worker syncs on its own (Background Sync) and has no localStorage: the
  // settings are kept beside the replica for it too.
  const keepForServiceWorker = (next: EdgeSettings) =>
    void keepSettingsForBackgroundSync(kv, { ...next, database: DATABASE }).catch(() => {});
  if (settings) {
    http = makeHttp(settings);
    keepForServiceWorker(settings);
  }
  const current = (): SyncRemote => {
    if (!http) throw new NotConnectedError();
    return http;
  };
  // The store keeps one remote; this one follows the settings.
  const remote: SyncRemote = {
    database: DATABASE,
    push: async (request) => current().push(request),
    pull: async (request) => current().pull(request),
  };
  const store = createSyncedStore<BankEvent>({ kv, remote });
  const start = () =>
    startSync<BankEvent>(store, {
      // The live connection is the agent's, and `connect` starts a new agent: it takes the
      // Worker's remote as it is, so it long-polls at once where no socket can be opened.
      ...(http ? { remote: http } : {}),
      name: options.name ?? REPLICA_DATABASE_NAME,
      // Without a Worker there is nothing to run or to listen to.
      ...(settings ? {} : { live: false as const, intervalMs: 0 }),
      ...(options.intervalMs === undefined || !settings ? {} : { intervalMs: options.intervalMs }),
      ...(options.environment === undefined ? {} : { environment: options.environment }),
    });
  let agent = start();
  const agentListeners = new Set<(agent: SyncAgent<BankEvent>) => void>();

  return {
    store,
    ledger: createLedger(store),
    get endpoint() {
      return settings?.endpoint;
    },
    get agent() {
      return agent;
    },
    get settings() {
      return settings;
    },
    async connect(next) {
      settings = next;
      http = makeHttp(next);
      keepForServiceWorker(next);
      await agent.stop();
      agent = start();
      for (const listener of agentListeners) listener(agent);
      return agent;
    },
    onAgent(listener) {
      agentListeners.add(listener);
      return () => void agentListeners.delete(listener);
    },
    watchChanges: (listener) => kv.watch?.(() => listener()) ?? (() => {}),
    async close() {
      await agent.stop();
      kv.close?.();
    },
  };
};

/** Whether an error means the endpoint could not be reached at all (no HTTP response). */
export const isUnreachable = (error: unknown): boolean =>
  isHttpError(error) && error.code === 'NETWORK_FAILURE';

/** Where the Worker's settings are saved (all tabs of the origin share them). */
export const SETTINGS_KEY = 'eventkv-demo:edge';

/** The saved endpoint settings, if any. */
export const loadEdgeSettings = (storage: Storage = localStorage): EdgeSettings | undefined => {
  try {
    const parsed = JSON.parse(
      storage.getItem(SETTINGS_KEY) ?? 'null',
    ) as Partial<EdgeSettings> | null;
    return typeof parsed?.endpoint === 'string' && typeof parsed.token === 'string'
      ? { endpoint: parsed.endpoint, token: parsed.token }
      : undefined;
  } catch {
    return undefined;
  }
};

export const saveEdgeSettings = (settings: EdgeSettings, storage: Storage = localStorage): void =>
  storage.setItem(SETTINGS_KEY, JSON.stringify(settings));

/**
 * Endpoint settings handed over in the address's fragment (`#connect=<url>&token=<jwt>`,
 * as printed by `pnpm start`): a fragment never reaches a server. `undefined` when the
 * fragment carries none.
 */
export const settingsFromFragment = (hash: string): EdgeSettings | undefined => {
  if (!hash.startsWith('#connect=')) return undefined;
  const params = new URLSearchParams(hash.slice(1));
  const endpoint = params.get('connect');
  const token = params.get('token');
  return endpoint && token ? { endpoint, token } : undefined;
};

/** Checks an endpoint URL typed by a person; the message says what is wrong. */
export const checkEndpoint = (text: string): string | undefined => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'Enter a full URL, such as http://127.0.0.1:8787.';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'Use an http or https URL.';
  return undefined;
};
