import type { Kv, KvChangeListener } from '@eventkv/core';
import { update } from './commit.js';
import { createConnection } from './connection.js';
import { createNotifier } from './notify.js';
import { type IndexedDbKvOptions, resolveOptions } from './options.js';
import { read } from './scan.js';
import { createTransact } from './transact.js';

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
 * when it is lost.
 *
 * @example
 * const store = createEventStore<BankEvent>({ kv: createIndexedDbKv({ name: 'bank' }) });
 */
const noRange = (): undefined => undefined;

export const createIndexedDbKv = (options: IndexedDbKvOptions): IndexedDbKv => {
  const o = resolveOptions(options);
  const connection = createConnection(o);
  const notifier = createNotifier(`eventkv:${o.name}`, o.broadcast ?? true);
  let closed = false;
  const transact = createTransact(o, connection, () => closed);
  return {
    name: o.name,
    capabilities: { atomic: true, copiesValues: true },
    read: (keys, then) => read(transact, o.keyRange, keys, then ?? noRange),
    async write(keys, plan) {
      notifier.changed(await update(transact, keys, plan));
    },
    watch: notifier.watch,
    async close() {
      closed = true;
      notifier.close();
      await connection.close();
    },
  };
};
