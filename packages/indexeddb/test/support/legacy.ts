import { createSuperjsonCodec } from '@eventkv/core';
import encoded from '../fixtures/legacy-v1.json';

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
  createSuperjsonCodec().decode(encoded as never) as never;

const request = <T>(req: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

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

const pad = (n: number) => n.toString().padStart(16, '0');

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
  const versions = new Array<number>(streams).fill(0);
  const start = Date.UTC(2026, 0, 1);
  const BATCH = 2000;
  try {
    for (let done = 0; done < count; done += BATCH) {
      const tx = db.transaction('eventkv', 'readwrite');
      const os = tx.objectStore('eventkv');
      for (let position = done + 1; position <= Math.min(count, done + BATCH); position++) {
        const s = position % streams;
        const id = `acc ${s}`;
        const encodedId = encodeURIComponent(id);
        const version = ++versions[s]!;
        const timestamp = start + position * 1000;
        const messageId = `m-${position}`;
        const userId = `user-${position % 7}`;
        const correlationId = `c/${position % 13}`;
        const type = position % 3 === 0 ? 'Withdrawn' : 'Deposited';
        os.put(
          {
            type,
            version,
            position,
            data: { amount: position % 100, at: new Date(timestamp) },
            metadata: {
              messageId,
              schemaVersion: 1,
              timestamp,
              aggregateType: 'Account',
              aggregateId: id,
              database: 'default',
              userId,
              correlationId,
            },
          },
          `default/e/Account/${encodedId}/${pad(version)}`,
        );
        os.put({ version, timestamp }, `default/h/Account/${encodedId}`);
        os.put({ version }, `default/i/Account/${encodedId}/${messageId}`);
        const pointer = { type: 'Account', id, version };
        const suffix = `${pad(timestamp)}/${pad(position)}`;
        os.put(pointer, `default/g/${pad(position)}`);
        os.put(pointer, `default/x/eventType/${type}/${suffix}`);
        os.put(pointer, `default/x/aggregateType/Account/${suffix}`);
        os.put(pointer, `default/x/user/${userId}/${suffix}`);
        os.put(pointer, `default/x/correlation/${encodeURIComponent(correlationId)}/${suffix}`);
      }
      os.put({ position: Math.min(count, done + BATCH) }, 'default/m/log');
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onabort = () => reject(tx.error);
      });
    }
  } finally {
    db.close();
  }
};
