import type { Kv, KvChangeListener } from '@eventkv/core';
import { createConnection } from './connection.js';
import { createNotifier } from './notify.js';
import { type IndexedDbKvOptions, resolveOptions } from './options.js';
import { type Prefetch, read } from './read.js';
import { createTransact } from './transact.js';
import { write } from './write.js';

/** A `Kv` over one IndexedDB database, with a change feed shared across tabs. */
export interface IndexedDbKv extends Kv {
  /** The IndexedDB database name. */
  readonly name: string;
  /** Calls `listener` after each commit of this adapter or of another connection. */
  watch(listener: KvChangeListener): () => void;
  /** Closes the connection and the change channel; later operations fail. */
  close(): Promise<void>;
}

/**
 * The IndexedDB adapter: the event store persisted in a browser tab, a worker or a
 * service worker. The database opens on first use; one connection is kept and reopened
 * when it is lost. Records live in one object store with one unique multi-entry index
 * over their index keys (see `schema.ts`), so index keys are kept natively
 * (`capabilities.indexes`): an event is one put, its message id, log position and query
 * entries are written and checked for uniqueness by IndexedDB in the same transaction.
 *
 * @example
 * const store = createEventStore<BankEvent>({ kv: createIndexedDbKv({ name: 'bank' }) });
 */
export const createIndexedDbKv = (options: IndexedDbKvOptions): IndexedDbKv => {
  const o = resolveOptions(options);
  const connection = createConnection(o);
  const notifier = createNotifier(`eventkv:${o.name}`, o.broadcast ?? true);
  let closed = false;
  const transact = createTransact(o, connection, () => closed);
  const prefetch: Prefetch = new Map();
  return {
    name: o.name,
    capabilities: { atomic: true, copiesValues: true, indexes: true },
    read: (keys, then) => transact('read', 'readonly', read(keys, then, o.keyRange, prefetch)),
    async write(keys, plan) {
      notifier.changed(await transact('commit', 'readwrite', write(keys, plan)));
    },
    watch: notifier.watch,
    async close() {
      closed = true;
      notifier.close();
      await connection.close();
    },
  };
};
