import { isStorageBlockedError, isStorageError } from '@eventkv/core';
import { failure } from '@eventkv/core/conformance';
import { kvCommit, kvGet } from '@eventkv/core/kv';
import { describe, expect, it } from 'vitest';
import { type TestBackend, useDatabases } from '../support/databases.js';
import { openRaw } from '../support/raw.js';

/** Real schema changes on one database shared with an app's own stores; nothing injected. */
export const upgradeTests = (backend: TestBackend): void => {
  const database = useDatabases(backend);
  const storesOf = async (db: { indexedDB: IDBFactory; name: string }) => {
    const raw = await openRaw(db.indexedDB, db.name);
    const names = [...raw.objectStoreNames].sort();
    const version = raw.version;
    raw.close();
    return { names, version };
  };

  describe(`schema versions and upgrades (${backend.label})`, () => {
    it("creates its store next to the app's stores in the app's upgrade", async () => {
      const db = database();
      const seen: number[] = [];
      const kv = db.connect({
        version: 3,
        upgrade: (idb, oldVersion) => {
          seen.push(oldVersion);
          idb.createObjectStore('drafts');
        },
      });
      await kvCommit(kv, { puts: [{ key: 'a', value: 1 }] });
      await kv.close();
      expect(seen).toEqual([0]);
      expect(await storesOf(db)).toEqual({ names: ['drafts', 'eventkv-records'], version: 3 });
    });

    it('adds its store to an existing app database by bumping the version', async () => {
      const db = database();
      (await openRaw(db.indexedDB, db.name, 4, (raw) => raw.createObjectStore('app'))).close();
      const kv = db.connect();
      await kvCommit(kv, { puts: [{ key: 'a', value: 1 }] });
      expect(await kvGet(kv, ['a'])).toEqual([1]);
      await kv.close();
      expect(await storesOf(db)).toEqual({ names: ['app', 'eventkv-records'], version: 5 });
    });

    it('fails with StorageError when a pinned version lacks its store', async () => {
      const db = database();
      (await openRaw(db.indexedDB, db.name, 2, (raw) => raw.createObjectStore('app'))).close();
      const error = await failure(kvGet(db.connect({ version: 2 }), ['a']));
      expect(isStorageError(error) && error.message).toMatch(/raise options.version/);
    });

    it('fails with StorageError when the upgrade callback throws, leaving the old version', async () => {
      const db = database();
      await kvCommit(db.connect(), { puts: [{ key: 'a', value: 1 }] });
      const failing = db.connect({
        version: 2,
        upgrade: () => {
          throw new Error('migration bug');
        },
      });
      const error = await failure(kvGet(failing, ['a']));
      expect(isStorageError(error) && (error.cause as Error).message).toBe('migration bug');
      expect((await storesOf(db)).version).toBe(1);
    });

    it('closes its connection for a newer version, finishing its commit, then reopens', async () => {
      const db = database();
      const kv = db.connect();
      await kvCommit(kv, { puts: [{ key: 'a', value: 1 }] });
      const inFlight = kvCommit(kv, { puts: [{ key: 'b', value: 2 }] });
      // The app's new code (this tab or another) upgrades while the adapter is connected.
      const app = await openRaw(db.indexedDB, db.name, 2, (raw) => raw.createObjectStore('drafts'));
      await inFlight;
      expect([...app.objectStoreNames].sort()).toEqual(['drafts', 'eventkv-records']);
      expect(await kvGet(kv, ['a', 'b'])).toEqual([1, 2]);
      app.close();
    });

    it('lets the database be deleted under it, then starts afresh on next use', async () => {
      const db = database();
      const kv = db.connect();
      await kvCommit(kv, { puts: [{ key: 'a', value: 1 }] });
      // Deleting waits for every connection to close: the adapter's closes on versionchange.
      await new Promise<void>((resolve, reject) => {
        const request = db.indexedDB.deleteDatabase(db.name);
        request.onsuccess = () => resolve();
        request.onerror = () => reject(request.error);
      });
      expect(await kvGet(kv, ['a'])).toEqual([undefined]);
      await kvCommit(kv, { puts: [{ key: 'b', value: 2 }] });
      expect(await kvGet(kv, ['b'])).toEqual([2]);
    });

    it('fails an open blocked by an old connection with StorageBlockedError within blockedTimeoutMs', async () => {
      const db = database();
      // An old tab holds version 1 and never lets go.
      const stale = await openRaw(db.indexedDB, db.name, 1, (raw) => raw.createObjectStore('app'));
      const kv = db.connect({ version: 2, blockedTimeoutMs: 50 });
      const started = Date.now();
      const error = await failure(kvGet(kv, ['a']));
      expect(Date.now() - started).toBeLessThan(2000);
      expect(isStorageBlockedError(error) && [error.database, error.waitedMs]).toEqual([
        db.name,
        50,
      ]);
      // Once the old tab is gone, the next operation opens the database.
      stale.close();
      await kvCommit(kv, { puts: [{ key: 'a', value: 1 }] });
      expect(await kvGet(kv, ['a'])).toEqual([1]);
    });
  });
};
