import { StorageBlockedError } from '@eventkv/core';
import { type IDBPDatabase, wrap } from 'idb';
import type { IndexedDbUpgrade, ResolvedOptions } from './options.js';
import { INDEX, STORE } from './schema.js';

type UpgradeTx = Parameters<IndexedDbUpgrade>[3];

/**
 * Opens one connection. `onLost` runs when the connection goes away underneath us: another
 * connection wants a newer version (we close at once; IndexedDB still lets the running
 * transactions finish) or the browser closed it abnormally.
 *
 * An upgrade creates the adapter's store and its index when they are missing; then the
 * app's own `upgrade` runs.
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
