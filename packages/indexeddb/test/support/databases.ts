import { deleteDB } from 'idb';
import { afterEach } from 'vitest';
import { createIndexedDbKv, type IndexedDbKv, type IndexedDbKvOptions } from '../../src/index.js';

/** Where the tests' databases live: fake-indexeddb in Node, the real `indexedDB` in Chromium. */
export interface TestBackend {
  readonly label: string;
  /** A factory for a new database (a fresh in-memory one in Node). */
  readonly factory: () => IDBFactory;
  /** Real databases outlive the test: delete them afterwards. */
  readonly deleteAfter: boolean;
}

export interface TestDatabase {
  readonly name: string;
  readonly indexedDB: IDBFactory;
  /** A new adapter (a new connection, like another tab) on this database. */
  connect(options?: Omit<IndexedDbKvOptions, 'name' | 'indexedDB'>): IndexedDbKv;
}

let counter = 0;

/** A database name no other test (or earlier run) uses. */
export const uniqueName = (label: string): string =>
  `${label}-${Date.now().toString(36)}-${(++counter).toString(36)}`;

/** Registers cleanup with the current test file and returns a maker of fresh databases. */
export const useDatabases = (backend: TestBackend): ((label?: string) => TestDatabase) => {
  const adapters: IndexedDbKv[] = [];
  const databases: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((kv) => kv.close()));
    for (const db of databases.splice(0)) {
      if (backend.deleteAfter) await deleteDB(db.name);
    }
  });
  return (label = 'db') => {
    const name = uniqueName(label);
    const indexedDB = backend.factory();
    const db: TestDatabase = {
      name,
      indexedDB,
      connect(options = {}) {
        const kv = createIndexedDbKv({ ...options, name, indexedDB });
        adapters.push(kv);
        return kv;
      },
    };
    databases.push(db);
    return db;
  };
};

/** Resolves when `check` passes (BroadcastChannel delivery is asynchronous). */
export const eventually = async (check: () => boolean, timeoutMs = 2000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};
