import { StorageError } from '@eventkv/core';
import { openDatabase } from './open.js';
import type { ResolvedOptions } from './options.js';
import { STORE } from './schema.js';

export interface Connection {
  /** The open connection, if there is one now (no await on the hot path). */
  live(): IDBDatabase | undefined;
  /** The open connection, opened on first use and again after it was lost. */
  get(): Promise<IDBDatabase>;
  /** Closes `db` and forgets it, so the next `get()` opens a fresh connection. */
  drop(db: IDBDatabase): void;
  /** Closes the connection (running transactions still finish). */
  close(): Promise<void>;
}

export const createConnection = (o: ResolvedOptions): Connection => {
  let pending: Promise<IDBDatabase> | undefined;
  let live: IDBDatabase | undefined;
  const open = async (onLost: () => void): Promise<IDBDatabase> => {
    const db = await openDatabase(o, o.version, onLost);
    if (db.objectStoreNames.contains(STORE)) return db;
    // The app created the database without our store, or an earlier release did with its
    // own: add (and migrate) it with a version bump.
    db.close();
    if (o.version !== undefined) {
      throw new StorageError('open', {
        detail: `raise options.version to add the '${STORE}' store (and migrate the data of an earlier release)`,
      });
    }
    return openDatabase(o, db.version + 1, onLost);
  };
  const forget = (p: Promise<IDBDatabase> | undefined) => {
    if (pending === p) pending = live = undefined;
  };
  return {
    live: () => live,
    get() {
      if (!pending) {
        const p: Promise<IDBDatabase> = open(() => forget(p)).then(
          (db) => {
            if (pending === p) live = db;
            return db;
          },
          (error: unknown) => {
            forget(p);
            throw error;
          },
        );
        pending = p;
      }
      return pending;
    },
    drop(db) {
      db.close();
      if (live === db) forget(pending);
    },
    async close() {
      const p = pending;
      forget(p);
      (await p?.catch(() => undefined))?.close();
    },
  };
};
