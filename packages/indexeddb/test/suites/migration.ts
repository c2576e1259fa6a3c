import { createEventStore, type EventStore, isStorageFullError, type Logger } from '@eventkv/core';
import { failure } from '@eventkv/core/conformance';
import { kvScan } from '@eventkv/core/kv';
import { createManualClock } from '@eventkv/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { eventTable } from '../../../core/test/legacy/answers.js';
import {
  expectLogs,
  expectMessageIds,
  expectQueries,
  expectRetries,
  legacyStoreTests,
} from '../../../core/test/legacy/checks.js';
import {
  legacyPointerTarget,
  LEGACY_POINTER as POINTER,
} from '../../../core/test/legacy/layout.js';
import { createSyncedStore, type SyncRemote } from '../../../sync/src/index.js';
import { type TestBackend, useDatabases } from '../support/databases.js';
import {
  legacyFixture,
  type RawDatabase,
  writeLegacyEvents,
  writeRawDatabase,
} from '../support/legacy.js';
import { readRawDatabase } from '../support/raw.js';

// biome-ignore lint/suspicious/noExplicitAny: the fixture's answers, compared as recorded
type Json = any;

const recordingLogger = () => {
  const lines: { level: string; fields: Record<string, unknown> }[] = [];
  const logger: Logger = {
    info: (_, fields) => lines.push({ level: 'info', fields }),
    warn: (_, fields) => lines.push({ level: 'warn', fields }),
  };
  return { logger, lines };
};

/** A remote that is never reached: the synced replica is read offline, as it was left. */
const offline: SyncRemote = {
  database: 'acme',
  push: () => Promise.reject(Object.assign(new Error('offline'), { code: 'NETWORK_FAILURE' })),
  pull: () => Promise.reject(Object.assign(new Error('offline'), { code: 'NETWORK_FAILURE' })),
};

/**
 * Databases written by the release before index keys (schema 1: `legacy-v1.json`, made by
 * that release) open with this adapter, which migrates them, and answer exactly as that
 * release did. Nothing is injected: the dumps are written with the raw API.
 */
export const migrationTests = (backend: TestBackend, options: { bigEvents: number }): void => {
  const database = useDatabases(backend);
  const fixture = legacyFixture();
  const [storeDump, syncedDump] = fixture.raw as [RawDatabase, RawDatabase];
  const { store: expected, synced } = fixture.expected;

  /** A fresh database holding `dump`, and a connection to it with this adapter. */
  const legacy = async (dump: RawDatabase, label: string) => {
    const db = database(label);
    await writeRawDatabase(db.indexedDB, db.name, dump);
    const { logger, lines } = recordingLogger();
    return { db, kv: db.connect({ logger }), lines };
  };

  describe(`migration from the previous layout (${backend.label})`, () => {
    it('moves every record into the indexed store, each pointer entry an index key of its event', async () => {
      const { db, kv, lines } = await legacy(storeDump, 'migrate');
      const entries = storeDump.objectStores[0]!.entries;
      const pointers = entries.filter((e) => POINTER.test(String(e.key)));
      const others = entries.filter((e) => !pointers.includes(e));
      // Every record as it was, found by key; every pointer an index key of its event.
      expect(await kvScan(kv, {})).toEqual(others.map(({ key, value }) => ({ key, value })));
      const indexed = await kvScan(kv, { by: 'index' });
      expect(indexed.map((e) => e.indexKey)).toEqual(pointers.map((e) => e.key));
      for (const entry of indexed) {
        const pointer = entries.find((e) => e.key === entry.indexKey)!.value as Json;
        expect(entry.value).toMatchObject({ version: pointer.version });
        if (pointer.type !== undefined) {
          expect(entry.value).toMatchObject({
            metadata: { aggregateType: pointer.type, aggregateId: pointer.id },
          });
        }
      }
      expect(lines).toEqual([
        {
          level: 'info',
          fields: expect.objectContaining({
            event: 'indexeddb.migrated',
            records: others.length,
            indexKeys: pointers.length,
            dropped: 0,
          }),
        },
      ]);
      await kv.close();
      // The old store is gone, the version one higher; the record store has its index.
      const raw = await readRawDatabase(db.indexedDB, db.name);
      expect(raw.version).toBe(storeDump.version + 1);
      expect(Object.keys(raw.stores)).toEqual(['eventkv-records']);
    });

    legacyStoreTests({
      expected,
      withStore: async <T>(body: (store: EventStore) => Promise<T>) => {
        const { kv } = await legacy(storeDump, 'migrate');
        return body(createEventStore({ kv, clock: createManualClock(fixture.meta.clock.end) }));
      },
    });

    it("answers the synced replica's status, outbox and reads as it did", async () => {
      const { kv } = await legacy(syncedDump, 'migrate-synced');
      const clock = createManualClock(fixture.meta.clock.end);
      const store = createSyncedStore({ kv, remote: offline, clock });
      expect(await store.sync.status()).toEqual(synced.status);
      expect(await store.sync.pendingStreams()).toEqual(synced.pendingStreams);
      expect(await store.sync.cursor()).toEqual(synced.cursor);
      expect(await store.sync.conflicts()).toEqual(synced.conflicts);
      for (const s of synced.streams) {
        const stream = store.stream(s.ref);
        expect(await stream.version()).toBe(s.version);
        expect(await stream.read()).toEqual(s.events);
      }
      const refOf = eventTable(synced.streams);
      await expectLogs(store, synced.logs, refOf);
      await expectQueries(store, synced.queries, refOf);
      await expectMessageIds(store, synced.messageIds);
      await expectRetries(store, synced.appends);
      expect((await store.sync.status()).pending).toBe(synced.status.pending);
    });

    it('drops pointer entries whose event is missing, says how many, and keeps everything else', async () => {
      // The dump without two of its events: their pointer entries name nothing.
      const entries = storeDump.objectStores[0]!.entries;
      const gone = [
        'default/e/Cart/c-1/0000000000000001',
        'acme/e/BankAccount/acc-1/0000000000000002',
      ];
      const damaged: RawDatabase = {
        ...storeDump,
        objectStores: [
          {
            ...storeDump.objectStores[0]!,
            entries: entries.filter((e) => !gone.includes(String(e.key))),
          },
        ],
      };
      const { kv, lines } = await legacy(damaged, 'migrate-damaged');
      const pointers = entries.filter((e) => POINTER.test(String(e.key)));
      const dangling = pointers
        .filter((e) => gone.includes(legacyPointerTarget(String(e.key), e.value as Json)))
        .map((e) => String(e.key));
      // Each event had a message id, a log position and four index entries (user and
      // correlation where it had them).
      expect(dangling.length).toBeGreaterThanOrEqual(2 * 4);
      const kept = entries.filter(
        (e) => !gone.includes(String(e.key)) && !POINTER.test(String(e.key)),
      );
      expect(await kvScan(kv, {})).toHaveLength(kept.length);
      expect(await kvScan(kv, { by: 'index' })).toHaveLength(pointers.length - dangling.length);
      const warning = lines.find((line) => line.level === 'warn');
      expect(warning?.fields).toMatchObject({
        event: 'indexeddb.migration.dropped',
        dropped: dangling.length,
      });
      expect([...((warning?.fields.keys ?? []) as string[])].sort()).toEqual(dangling.sort());
      // The streams whose event is gone report the gap; the others read as before.
      const store = createEventStore({ kv, clock: createManualClock(fixture.meta.clock.end) });
      await expect(store.stream({ type: 'Cart', id: 'c-1' }).read()).rejects.toMatchObject({
        code: 'CORRUPT_RECORD',
      });
      expect(await store.stream(expected.streams[0].ref).read()).toEqual(
        expected.streams[0].events,
      );
    });

    it('aborts the upgrade on a failure inside the migration and leaves the old layout (injected QuotaExceededError)', async () => {
      const db = database('migrate-quota');
      await writeRawDatabase(db.indexedDB, db.name, storeDump);
      const put = IDBObjectStore.prototype.put;
      let calls = 0;
      const spy = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (
        this: IDBObjectStore,
        ...args: Parameters<IDBObjectStore['put']>
      ) {
        if (++calls === 30)
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return put.apply(this, args);
      });
      try {
        const error = await failure(db.connect().read(['default/m/log']));
        expect(isStorageFullError(error)).toBe(true);
      } finally {
        spy.mockRestore();
      }
      const raw = await readRawDatabase(db.indexedDB, db.name);
      expect(raw.version).toBe(storeDump.version);
      expect(Object.keys(raw.stores)).toEqual(['eventkv']);
      expect(raw.stores.eventkv).toEqual(storeDump.objectStores[0]!.entries);
      // The next open migrates.
      const store = createEventStore({ kv: db.connect() });
      expect(await store.stream(expected.streams[0].ref).version()).toBe(
        expected.streams[0].version,
      );
    });

    it("keeps the app's own stores and runs its upgrade in the migrating transaction", async () => {
      const db = database('migrate-app');
      const dump: RawDatabase = {
        ...storeDump,
        version: 3,
        objectStores: [
          ...storeDump.objectStores,
          {
            name: 'drafts',
            keyPath: null,
            autoIncrement: false,
            indexes: [],
            entries: [{ key: 'draft-1', value: { text: 'kept' } }],
          },
        ],
      };
      await writeRawDatabase(db.indexedDB, db.name, dump);
      const seen: [number, number | null][] = [];
      const kv = db.connect({
        version: 4,
        upgrade: (idb, oldVersion, newVersion) => {
          seen.push([oldVersion, newVersion]);
          idb.createObjectStore('settings');
        },
      });
      const store = createEventStore({ kv });
      expect(await store.stream(expected.streams[0].ref).version()).toBe(
        expected.streams[0].version,
      );
      await kv.close();
      expect(seen).toEqual([[3, 4]]);
      const raw = await readRawDatabase(db.indexedDB, db.name);
      expect(Object.keys(raw.stores).sort()).toEqual(['drafts', 'eventkv-records', 'settings']);
      expect(raw.stores.drafts).toEqual([{ key: 'draft-1', value: { text: 'kept' } }]);
    });

    it('leaves the old layout as it was when the migration fails (the app upgrade throws)', async () => {
      const db = database('migrate-failing');
      await writeRawDatabase(db.indexedDB, db.name, storeDump);
      const failing = db.connect({
        upgrade: () => {
          throw new Error('app migration bug');
        },
      });
      await expect(failing.read(['default/m/log'])).rejects.toMatchObject({
        code: 'STORAGE_FAILURE',
      });
      const raw = await readRawDatabase(db.indexedDB, db.name);
      expect(raw.version).toBe(storeDump.version);
      expect(Object.keys(raw.stores)).toEqual(['eventkv']);
      expect(raw.stores.eventkv).toHaveLength(storeDump.objectStores[0]!.entries.length);
    });

    it('migrates a big database in bounded chunks', { timeout: 300_000 }, async () => {
      const db = database('migrate-big');
      const count = options.bigEvents;
      await writeLegacyEvents(db.indexedDB, db.name, count, 50);
      const { logger, lines } = recordingLogger();
      const kv = db.connect({ logger });
      const store = createEventStore({ kv });
      const last = await store.readLog({ after: count - 10, limit: 1000 });
      expect([last.events.length, last.position]).toEqual([10, count]);
      expect(lines[0]?.fields).toMatchObject({
        event: 'indexeddb.migrated',
        records: count + 50 + 1,
        indexKeys: count * 6,
        dropped: 0,
      });
      const stream = store.stream({ type: 'Account', id: 'acc 7' });
      expect(await stream.version()).toBe(count / 50);
      expect(await stream.versionOf('m-57')).toBe(2);
      const page = await store.query('correlation', 'c/3', { limit: 1000 });
      expect(page.events.length).toBe(Math.min(1000, Math.floor((count - 3) / 13) + 1));
    });
  });
};
