import type { KvValue } from '@eventkv/core';
import type { DBSchema } from 'idb';

/**
 * The object store that holds the event store's records (schema 2). Every value is stored
 * wrapped, `{ v: value }`, or `{ v: value, x: indexKeys }` for a record that declares
 * index keys (an event: its message id, log position and query entries), under its key
 * (out-of-line string keys, core's layout). `x` feeds one unique multi-entry index,
 * `INDEX`: an index key names one record in the whole store, which is the contract's
 * uniqueness rule, enforced by IndexedDB in the record's own transaction. Records without
 * index keys have no `x` and are not in the index.
 */
export const STORE = 'eventkv-records';
/** The unique multi-entry index over every record's index keys (`x`). */
export const INDEX = 'indexKeys';
/**
 * Schema 1 (releases before index keys): one object store of core's keys and values as
 * they were, with message ids, log positions and query entries as pointer entries of their
 * own. Opening such a database migrates it into `STORE` and deletes it (see `migrate.ts`).
 */
export const LEGACY_STORE = 'eventkv';

/** A record as stored: the value, and the index keys it is also found under. */
export interface StoredRecord {
  readonly v: KvValue;
  readonly x?: readonly string[];
}

/** The adapter's part of the database, for apps that open it with `idb` themselves. */
export interface EventKvSchema extends DBSchema {
  'eventkv-records': { key: string; value: StoredRecord; indexes: { indexKeys: string } };
}
