import {
  InvalidArgumentError,
  isEventKvError,
  StorageError,
  StorageFullError,
} from '@eventkv/core';
import type { IDBPTransaction } from 'idb';
import type { Connection } from './connection.js';
import type { ResolvedOptions } from './options.js';
import { type EventKvSchema, STORE } from './schema.js';

export type Tx<Mode extends IDBTransactionMode> = IDBPTransaction<
  EventKvSchema,
  [typeof STORE],
  Mode
>;

export type Transact = <Mode extends IDBTransactionMode, T>(
  operation: string,
  mode: Mode,
  body: (tx: Tx<Mode>) => Promise<T>,
) => Promise<T>;

// A connection that is closing or was closed underneath us (versionchange, the browser
// dropping the database, a forced close): reopening fixes these.
const isLostConnection = (error: unknown): boolean =>
  /^(InvalidState|Abort|Unknown|TransactionInactive)Error$/.test((error as Error)?.name);

/** The typed error for a backend failure, with the original as `cause`. */
const toEventKvError = (operation: string, error: unknown): Error => {
  const name = (error as Error)?.name;
  return isEventKvError(error)
    ? error
    : name === 'QuotaExceededError'
      ? new StorageFullError(operation, { cause: error })
      : name === 'DataCloneError'
        ? new InvalidArgumentError(operation, 'values must be cloneable', { cause: error })
        : new StorageError(operation, { cause: error });
};

/**
 * Runs `body` in one transaction on the shared connection, reopening a lost connection and
 * running again up to `maxRetries` times, but only where a second run is safe:
 * - the transaction could not even be created (the connection was closing): nothing ran,
 *   so any operation, a commit too, is retried;
 * - a read failed on a lost connection: reads change nothing.
 * A commit that failed after its transaction started is never retried here. IndexedDB
 * aborted it, so nothing of it was applied, but the cause may be lasting (quota, a clone
 * error); the caller gets a typed error and may retry (appends are idempotent).
 */
export const createTransact =
  (o: ResolvedOptions, connection: Connection, isClosed: () => boolean): Transact =>
  async (operation, mode, body) => {
    for (let attempt = 0; ; attempt++) {
      if (isClosed()) throw new StorageError(operation, { detail: 'the adapter was closed' });
      const db = await connection.get().catch((error: unknown) => {
        throw toEventKvError('open', error);
      });
      let tx: Tx<typeof mode>;
      try {
        tx = db.transaction(STORE, mode, { durability: o.durability });
      } catch (error) {
        connection.drop(db);
        if (attempt < o.maxRetries && isLostConnection(error)) continue;
        throw toEventKvError(operation, error);
      }
      // An aborted transaction rejects `done` even when nobody waits for it.
      tx.done.catch(() => {});
      try {
        return await body(tx);
      } catch (error) {
        // Whatever failed, nothing of this transaction may commit (a put that threw leaves
        // the earlier ones queued). It may have aborted already, and then abort() throws.
        try {
          tx.abort();
        } catch {}
        if (isEventKvError(error)) throw error;
        if (mode === 'readonly' && attempt < o.maxRetries && isLostConnection(error)) {
          connection.drop(db);
          continue;
        }
        throw toEventKvError(operation, error);
      }
    }
  };
