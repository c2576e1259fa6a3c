import { StorageBlockedError } from '@eventkv/core';
import { type IDBPDatabase, wrap } from 'idb';
import { migrateLegacy } from './migrate.js';
import type { IndexedDbUpgrade, ResolvedOptions } from './options.js';
import { INDEX, LEGACY_STORE, STORE } from './schema.js';

type UpgradeTx = Parameters<IndexedDbUpgrade>[3];

const report = (o: ResolvedOptions, level: 'info' | 'warn', message: string, fields: object) => {
  try {
    o.logger?.[level]?.(`eventkv: ${message}`, fields as Record<string, unknown>);
  } catch {
    // A failing logger must not fail the upgrade it reports on.
  }
};

/**
 * Opens one connection. `onLost` runs when the connection goes away underneath us: another
 * connection wants a newer version (we close at once; IndexedDB still lets the running
 * transactions finish) or the browser closed it abnormally.
 *
 * An upgrade creates the adapter's store and its index when they are missing and, when
 * the database still has the store of the previous layout, migrates it in the same
 * `versionchange` transaction (`migrate.ts`); then the app's own `upgrade` runs.
 */
export const openDatabase = (
  o: ResolvedOptions,
  version: number | undefined,
  onLost: () => void,
): Promise<IDBDatabase> =>
  new Promise((resolve, reject) => {
    const request = o.factory.open(o.name, version);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let gaveUp = false;
    let upgradeError: unknown;
    const failUpgrade = (error: unknown) => {
      upgradeError ??= error;
      try {
        request.transaction?.abort();
      } catch {
        // Already aborted.
      }
    };
    request.onupgradeneeded = (event) => {
      const db = request.result;
      const tx = request.transaction as IDBTransaction;
      try {
        if (!db.objectStoreNames.contains(STORE)) {
          db.createObjectStore(STORE).createIndex(INDEX, 'x', { unique: true, multiEntry: true });
          if (db.objectStoreNames.contains(LEGACY_STORE)) {
            const started = Date.now();
            migrateLegacy(
              db,
              tx,
              o.keyRange,
              ({ records, indexKeys, dropped }) => {
                const fields = { database: o.name, records, indexKeys, dropped: dropped.length };
                report(o, 'info', 'database migrated to the index-key layout', {
                  event: 'indexeddb.migrated',
                  ...fields,
                  ms: Date.now() - started,
                });
                if (dropped.length > 0) {
                  report(o, 'warn', 'index entries whose event is missing were dropped', {
                    event: 'indexeddb.migration.dropped',
                    ...fields,
                    keys: dropped.slice(0, 100),
                  });
                }
              },
              failUpgrade,
            );
          }
        }
        if (o.upgrade) {
          const wrapped = wrap(tx) as unknown as UpgradeTx;
          // Wrapping creates `tx.done`; a failed upgrade rejects it, and the open reports that.
          wrapped.done.catch(() => {});
          o.upgrade(wrap(db) as IDBPDatabase, event.oldVersion, event.newVersion, wrapped);
        }
      } catch (error) {
        failUpgrade(error);
      }
    };
    // A blocked open waits until every other connection closes, which a stale tab may never
    // do: give up after a bounded time instead of hanging the app.
    request.onblocked = () => {
      timer ??= setTimeout(() => {
        gaveUp = true;
        reject(new StorageBlockedError(o.name, o.blockedTimeoutMs));
      }, o.blockedTimeoutMs);
    };
    request.onsuccess = () => {
      clearTimeout(timer);
      const db = request.result;
      if (gaveUp) return db.close();
      db.onversionchange = () => {
        db.close();
        onLost();
      };
      db.onclose = onLost;
      resolve(db);
    };
    request.onerror = () => {
      clearTimeout(timer);
      reject(upgradeError ?? request.error);
    };
  });
