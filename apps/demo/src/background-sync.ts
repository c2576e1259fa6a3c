import type { Kv } from '@eventkv/core';
import { kvCommit, kvGet } from '@eventkv/core/kv';
import { createHttpSyncRemote, createSyncedStore } from '@eventkv/sync';
import type { BankEvent } from './domain';

/** The Worker's settings as the service worker reads them (it has no localStorage). */
interface StoredSettings {
  readonly endpoint: string;
  readonly token: string;
  readonly database: string;
}

/**
 * Where the app keeps the Worker's settings for its service worker: a record of the
 * replica's own storage (keys under `#` are never the store's).
 */
export const SETTINGS_RECORD = '#demo/settings';

/** Keeps the settings beside the replica, for a sync the service worker runs alone. */
export const keepSettingsForBackgroundSync = (kv: Kv, settings: StoredSettings): Promise<void> =>
  kvCommit(kv, { puts: [{ key: SETTINGS_RECORD, value: { ...settings } }] });

/**
 * One sync of the replica, run by the service worker when the browser fires Background
 * Sync (the network is back, possibly with no tab of the app open): the agent of a tab
 * registered it when a sync failed offline with changes waiting. Rejects when the Worker
 * cannot be reached, so the browser tries again later; without settings there is nothing
 * to sync with.
 */
export const syncInBackground = async (
  kv: Kv,
  options: { readonly fetch?: typeof fetch } = {},
): Promise<{ pushed: number; pulled: number }> => {
  const [raw] = await kvGet(kv, [SETTINGS_RECORD]);
  const settings = raw as StoredSettings | undefined;
  if (!settings) return { pushed: 0, pulled: 0 };
  const store = createSyncedStore<BankEvent>({
    kv,
    remote: createHttpSyncRemote(settings.endpoint, {
      token: settings.token,
      database: settings.database,
      WebSocket: false,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    }),
  });
  return store.sync.syncNow();
};
