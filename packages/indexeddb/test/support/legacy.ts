import { decodeLegacyFixture } from '../../../core/test/legacy/checks.js';
import { legacyEventEntries } from '../../../core/test/legacy/layout.js';
import encoded from '../fixtures/legacy-v1.json';
import { request } from './raw.js';

/** One object store of a raw dump, as `generate-legacy.ts` writes it. */
export interface RawStore {
  readonly name: string;
  readonly keyPath: string | string[] | null;
  readonly autoIncrement: boolean;
  readonly indexes: readonly {
    readonly name: string;
    readonly keyPath: string | string[];
    readonly unique: boolean;
    readonly multiEntry: boolean;
  }[];
  readonly entries: readonly { readonly key: IDBValidKey; readonly value: unknown }[];
}

/** A whole IndexedDB database as the previous release left it. */
export interface RawDatabase {
  readonly name: string;
  readonly version: number;
  readonly objectStores: readonly RawStore[];
}

/** `legacy-v1.json`, decoded (Dates, Maps, Sets, binary data and bigints restored). */
// biome-ignore lint/suspicious/noExplicitAny: the answers are compared field by field
export const legacyFixture = (): { meta: any; raw: RawDatabase[]; expected: any } =>
  decodeLegacyFixture(encoded);

/**
 * Writes `dump` into the database `name` with the raw API, at the dump's version, as the
 * previous release's code had left it: the same stores, indexes, keys and values.
 */
export const writeRawDatabase = async (
  factory: IDBFactory,
  name: string,
  dump: RawDatabase,
): Promise<void> => {
  const open = factory.open(name, dump.version);
  open.onupgradeneeded = () => {
    const db = open.result;
    for (const store of dump.objectStores) {
      const created = db.createObjectStore(store.name, {
        keyPath: store.keyPath,
        autoIncrement: store.autoIncrement,
      });
      for (const index of store.indexes) {
        created.createIndex(index.name, index.keyPath, {
          unique: index.unique,
          multiEntry: index.multiEntry,
        });
      }
    }
  };
  const db = await request(open);
  try {
    for (const store of dump.objectStores) {
      const tx = db.transaction(store.name, 'readwrite');
      const os = tx.objectStore(store.name);
      for (const { key, value } of store.entries) {
        if (store.keyPath === null) os.put(value, key);
        else os.put(value);
      }
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    }
  } finally {
    db.close();
  }
};

/**
 * A database of the previous layout with `count` events spread over `streams` streams of
 * the `default` database (global log and all four indexes, as that release's defaults
 * wrote them), for migrations of a size no fixture holds. Written in batches.
 */
export const writeLegacyEvents = async (
  factory: IDBFactory,
  name: string,
  count: number,
  streams: number,
): Promise<void> => {
  const open = factory.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore('eventkv');
  const db = await request(open);
  const entries = legacyEventEntries(count, streams);
  // About 2,000 events (eight entries each) a transaction.
  const BATCH = 16_000;
  try {
    for (let done = false; !done; ) {
      const tx = db.transaction('eventkv', 'readwrite');
      const os = tx.objectStore('eventkv');
      for (let i = 0; i < BATCH; i++) {
        const next = entries.next();
        if (next.done) {
          done = true;
          break;
        }
        os.put(next.value.value, next.value.key);
      }
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onabort = () => reject(tx.error);
      });
    }
  } finally {
    db.close();
  }
};
