import { StorageError } from '@eventkv/core';
import { type Database, openDatabase } from './open.js';
import type { ResolvedOptions } from './options.js';
import { STORE } from './schema.js';

export interface Connection {
  /** The open connection, opened on first use and again after it was lost. */
  get(): Promise<Database>;
  /** Closes `db` and forgets it, so the next `get()` opens a fresh connection. */
  drop(db: Database): void;
  /** Closes the connection (running transactions still finish). */
  close(): Promise<void>;
}

export const createConnection = (o: ResolvedOptions): Connection => {
  let pending: Promise<Database> | undefined;
  let live: Database | undefined;
  const open = async (onLost: () => void): Promise<Database> => {
    const db = await openDatabase(o, o.version, onLost);
    if (db.objectStoreNames.contains(STORE)) return db;
    // The app created the database without our store: add it with a version bump.
    db.close();
    if (o.version !== undefined) {
      throw new StorageError('open', {
        detail: `raise options.version to add the '${STORE}' store`,
      });
    }
    return openDatabase(o, db.version + 1, onLost);
  };
  const forget = (p: Promise<Database> | undefined) => {
    if (pending === p) pending = live = undefined;
  };
  return {
    get() {
      if (!pending) {
        const p: Promise<Database> = open(() => forget(p)).then(
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
