import { InvalidArgumentError, type Logger } from '@eventkv/core';
import type { IDBPDatabase, IDBPTransaction } from 'idb';

/**
 * Upgrade callback for apps that keep their own object stores in the same database. The
 * database is untyped here: it holds the app's stores next to the adapter's.
 */
export type IndexedDbUpgrade = (
  db: IDBPDatabase,
  oldVersion: number,
  newVersion: number | null,
  tx: IDBPTransaction<unknown, string[], 'versionchange'>,
) => void;

export interface IndexedDbKvOptions {
  /** The IndexedDB database name. */
  readonly name: string;
  /**
   * `'strict'` (default): a commit resolves only once it is flushed to disk, so an
   * acknowledged append survives a browser or OS crash. `'relaxed'`: faster, but the last
   * commits may be lost in a crash (never half of one).
   */
  readonly durability?: 'strict' | 'relaxed';
  /** The factory to open the database with (default `globalThis.indexedDB`). */
  readonly indexedDB?: IDBFactory;
  /** The key range class of that factory (default `globalThis.IDBKeyRange`). */
  readonly IDBKeyRange?: typeof IDBKeyRange;
  /**
   * Schema version of the database, for apps that share it with their own stores
   * (default: the current version; the adapter bumps it by one if its store is missing).
   */
  readonly version?: number;
  /**
   * Runs in the upgrade transaction after the adapter created its store (if needed) and
   * started migrating a database of the previous layout (see the README).
   */
  readonly upgrade?: IndexedDbUpgrade;
  /**
   * Structured logger (console-compatible, like the store's). The adapter logs only the
   * migration of a database of the previous layout: `indexeddb.migrated` (info) with its
   * counts, and `indexeddb.migration.dropped` (warn) for index entries whose event was
   * missing. Silent by default.
   */
  readonly logger?: Logger;
  /**
   * How long an open may stay blocked by another connection holding an older version
   * before it fails with `StorageBlockedError` (default 5 000 ms).
   */
  readonly blockedTimeoutMs?: number;
  /** How many times an operation reopens a lost connection and runs again (default 3). */
  readonly maxRetries?: number;
  /**
   * Tell other tabs and workers about each commit on a `BroadcastChannel` and hear theirs
   * (default `true`). With `false`, `watch` only sees this adapter's own commits.
   */
  readonly broadcast?: boolean;
}

export interface ResolvedOptions extends IndexedDbKvOptions {
  readonly durability: 'strict' | 'relaxed';
  readonly factory: IDBFactory;
  readonly keyRange: typeof IDBKeyRange;
  readonly blockedTimeoutMs: number;
  readonly maxRetries: number;
}

const invalid = (field: string, reason: string) =>
  new InvalidArgumentError(`options.${field}`, `must be ${reason}`);

const integer = (field: string, value: number | undefined, fallback: number, min: number) => {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw invalid(field, `an integer >= ${min}`);
  return value;
};

export const resolveOptions = (options: IndexedDbKvOptions): ResolvedOptions => {
  const { name, durability = 'strict', version } = options ?? {};
  if (typeof name !== 'string' || name === '') throw invalid('name', 'a non-empty string');
  if (durability !== 'strict' && durability !== 'relaxed') {
    throw invalid('durability', "'strict' or 'relaxed'");
  }
  if (version !== undefined) integer('version', version, 0, 1);
  return {
    ...options,
    durability,
    // Without IndexedDB here, opening fails with a StorageError naming the cause.
    factory: options.indexedDB ?? globalThis.indexedDB,
    keyRange: options.IDBKeyRange ?? globalThis.IDBKeyRange,
    blockedTimeoutMs: integer('blockedTimeoutMs', options.blockedTimeoutMs, 5000, 0),
    maxRetries: integer('maxRetries', options.maxRetries, 3, 0),
  };
};
