import {
  InvalidArgumentError,
  isEventKvError,
  StorageError,
  StorageFullError,
} from '@eventkv/core';
import type { Connection } from './connection.js';
import type { ResolvedOptions } from './options.js';
import { STORE } from './schema.js';

/**
 * Runs one transaction's requests: resolves with its result, or rejects with what failed.
 * It has already aborted the transaction on any failure of its own.
 */
export type Body<T> = (tx: IDBTransaction, store: IDBObjectStore) => Promise<T>;

export type Transact = <T>(
  operation: string,
  mode: IDBTransactionMode,
  body: Body<T>,
) => Promise<T>;

/** An error of the caller's own (a `plan` or `then` that threw): it reaches the caller as it is. */
export class Own {
  constructor(readonly error: unknown) {}
}

/** Aborts `tx` if it still runs (abort() throws on one that already finished). */
export const abort = (tx: IDBTransaction): void => {
  try {
    tx.abort();
  } catch {}
};

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
export const createTransact = (
  o: ResolvedOptions,
  connection: Connection,
  isClosed: () => boolean,
): Transact => {
  const durability: IDBTransactionOptions = { durability: o.durability };
  return async (operation, mode, body) => {
    const options = mode === 'readwrite' ? durability : undefined;
    for (let attempt = 0; ; attempt++) {
      if (isClosed()) throw new StorageError(operation, { detail: 'the adapter was closed' });
      const db =
        connection.live() ??
        (await connection.get().catch((error: unknown) => {
          throw toEventKvError('open', error);
        }));
      let tx: IDBTransaction;
      try {
        tx = db.transaction(STORE, mode, options);
      } catch (error) {
        connection.drop(db);
        if (attempt < o.maxRetries && isLostConnection(error)) continue;
        throw toEventKvError(operation, error);
      }
      try {
        return await body(tx, tx.objectStore(STORE));
      } catch (error) {
        // Whatever failed, nothing of this transaction may commit.
        abort(tx);
        if (error instanceof Own) throw error.error;
        if (isEventKvError(error)) throw error;
        if (mode === 'readonly' && attempt < o.maxRetries && isLostConnection(error)) {
          connection.drop(db);
          continue;
        }
        throw toEventKvError(operation, error);
      }
    }
  };
};
