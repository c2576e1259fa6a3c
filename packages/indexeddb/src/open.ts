import { StorageBlockedError } from '@eventkv/core';
import { type IDBPDatabase, wrap } from 'idb';
import type { IndexedDbUpgrade, ResolvedOptions } from './options.js';
import { type EventKvSchema, STORE } from './schema.js';

export type Database = IDBPDatabase<EventKvSchema>;
type UpgradeTx = Parameters<IndexedDbUpgrade>[3];

/**
 * Opens one connection. `onLost` runs when the connection goes away underneath us: another
 * connection wants a newer version (we close at once; IndexedDB still lets the running
 * transactions finish) or the browser closed it abnormally.
 */
export const openDatabase = (
  o: ResolvedOptions,
  version: number | undefined,
  onLost: () => void,
): Promise<Database> =>
  new Promise((resolve, reject) => {
    const request = o.factory.open(o.name, version);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let gaveUp = false;
    let upgradeError: unknown;
    request.onupgradeneeded = (event) => {
      const db = wrap(request.result) as Database;
      try {
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE);
        if (o.upgrade) {
          const tx = wrap(request.transaction as IDBTransaction) as unknown as UpgradeTx;
          // Wrapping creates `tx.done`; a failed upgrade rejects it, and the open reports that.
          tx.done.catch(() => {});
          o.upgrade(db as IDBPDatabase, event.oldVersion, event.newVersion, tx);
        }
      } catch (error) {
        upgradeError = error;
        request.transaction?.abort();
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
      resolve(wrap(db) as Database);
    };
    request.onerror = () => {
      clearTimeout(timer);
      reject(upgradeError ?? request.error);
    };
  });
