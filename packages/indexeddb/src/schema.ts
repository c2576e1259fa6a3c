import type { KvValue } from '@eventkv/core';
import type { DBSchema } from 'idb';

/** The object store that holds the event store's keys. */
export const STORE = 'eventkv';

/** The adapter's part of the database: one object store of string keys to values. */
export interface EventKvSchema extends DBSchema {
  eventkv: { key: string; value: KvValue };
}
