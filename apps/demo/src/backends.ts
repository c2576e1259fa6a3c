import { createHttpEventStore, isHttpError } from '@eventkv/client';
import { createEventStore, type EventStore } from '@eventkv/core';
import { createIndexedDbKv } from '@eventkv/indexeddb';
import type { BankEvent } from './domain';
import { createLedger, type Ledger } from './ledger';

/** Where the accounts live: this browser's IndexedDB, or the Worker endpoint. */
export type Mode = 'local' | 'edge';

export interface Backend {
  readonly mode: Mode;
  /** Shown in the header: where the events are. */
  readonly label: string;
  /** The Worker's URL, in edge mode: failure messages name it. */
  readonly endpoint?: string;
  readonly ledger: Ledger;
  /**
   * Calls `listener` when accounts may have changed elsewhere (another tab, another
   * device): the account list refreshes on it. Returns a function that stops it.
   */
  watchChanges(listener: () => void): () => void;
  close(): void;
}

/** The IndexedDB database the demo keeps its events in. */
export const LOCAL_DATABASE_NAME = 'eventkv-demo';

/** Accounts in this browser's IndexedDB; other tabs' commits arrive on a BroadcastChannel. */
export const createLocalBackend = (name = LOCAL_DATABASE_NAME): Backend => {
  const kv = createIndexedDbKv({ name });
  const store: EventStore<BankEvent> = createEventStore<BankEvent>({ kv });
  return {
    mode: 'local',
    label: 'this browser (IndexedDB)',
    ledger: createLedger(store),
    watchChanges: (listener) => kv.watch?.(() => listener()) ?? (() => {}),
    close: () => void kv.close?.(),
  };
};

export interface EdgeSettings {
  /** The Worker's base URL, e.g. `http://127.0.0.1:8787`. */
  readonly endpoint: string;
  /** A bearer token whose `db` claim names the database. */
  readonly token: string;
}

/** How often the account list re-reads the endpoint (the HTTP API has no push). */
export const EDGE_POLL_MS = 3000;

/** Accounts on the Worker endpoint, through the typed HTTP client: the same store API. */
export const createEdgeBackend = (settings: EdgeSettings, fetchFn?: typeof fetch): Backend => {
  const store = createHttpEventStore<BankEvent>(settings.endpoint, {
    token: settings.token,
    // A person is waiting: one quick retry, then the UI says the endpoint is unreachable.
    retry: { maxAttempts: 2, maxElapsedMs: 2000 },
    ...(fetchFn === undefined ? {} : { fetch: (request: Request) => fetchFn(request) }),
  });
  return {
    mode: 'edge',
    label: `the Worker at ${settings.endpoint}`,
    endpoint: settings.endpoint,
    ledger: createLedger(store),
    watchChanges(listener) {
      const timer = setInterval(listener, EDGE_POLL_MS);
      return () => clearInterval(timer);
    },
    close: () => {},
  };
};

/** Whether an error means the endpoint could not be reached at all (no HTTP response). */
export const isUnreachable = (error: unknown): boolean =>
  isHttpError(error) && error.code === 'NETWORK_FAILURE';

const SETTINGS_KEY = 'eventkv-demo:edge';

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
