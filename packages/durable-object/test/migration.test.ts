import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { createEventStore, type EventStore } from '@eventkv/core';
import { kvGet, kvScan } from '@eventkv/core/kv';
import { createReplica } from '@eventkv/core/replica';
import { createManualClock } from '@eventkv/core/testing';
import { describe, expect, it } from 'vitest';
import { retryAppends } from '../../core/test/legacy/answers.js';
import { decodeLegacyFixture, legacyStoreTests } from '../../core/test/legacy/checks.js';
import {
  legacyEventEntries,
  legacyPointerTarget,
  LEGACY_POINTER as POINTER,
} from '../../core/test/legacy/layout.js';
import { createDurableObjectKv, eventStoreObjectRpc, unwrapResult } from '../src/index.js';
import { legacyTarget, migrateLegacyEntries, prepareStorage } from '../src/kv/layout.js';
import encoded from './fixtures/legacy-kv.json';
import { freshHost } from './in-object-kv.js';

// biome-ignore lint/suspicious/noExplicitAny: the fixture's answers, compared as recorded
type Json = any;

/** `legacy-kv.json` (see `fixtures/generate-legacy.ts`), decoded: Dates, Maps, bigints back. */
const fixture = decodeLegacyFixture(encoded) as {
  meta: Json;
  entries: { key: string; value: unknown }[];
  expected: Json;
};
const { expected } = fixture;

/** The entries the previous release kept for index keys (message ids, log, queries). */
const pointers = fixture.entries.filter((e) => POINTER.test(e.key));
const records = fixture.entries.filter((e) => !POINTER.test(e.key));
/** Stream heads, session leases and log heads: rows of eventkv_small since layout 3. */
const SMALL = /^[^/#$]+\/[hlm]\//;
const small = records.filter((e) => SMALL.test(e.key));
const kept = records.filter((e) => !SMALL.test(e.key));

/** Writes `entries` into `storage` as the previous release left them: raw KV entries. */
const putRaw = (
  storage: DurableObjectStorage,
  entries: readonly { key: string; value: unknown }[],
) =>
  storage.transactionSync(() => {
    for (const { key, value } of entries) storage.kv.put(key, value);
  });

const tables = (storage: DurableObjectStorage) =>
  storage.sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'eventkv_%'",
    )
    .toArray()
    .map((row) => row.name)
    .sort();

const indexRows = (storage: DurableObjectStorage) =>
  storage.sql.exec<{ ikey: string; key: string }>('SELECT ikey, key FROM eventkv_index').toArray();

/** The small records' rows, their JSON decoded (null: the value is the KV entry). */
const smallRows = (storage: DurableObjectStorage) =>
  storage.sql
    .exec<{ key: string; value: string | null }>('SELECT key, value FROM eventkv_small')
    .toArray()
    .map(({ key, value }) => ({ key, value: value === null ? null : JSON.parse(value) }));

const layoutOf = (storage: DurableObjectStorage) =>
  storage.sql.exec("SELECT value FROM eventkv_meta WHERE name = 'layout'").one().value;

/**
 * Runs `body` in a fresh object whose storage holds the previous release's entries, with
 * the store the object hosts (`createReplica`, default options) over this adapter, at the
 * fixture's clock (its session lease is still held then).
 */
const inObjectWritten =
  (write: (storage: DurableObjectStorage, entries: typeof fixture.entries) => void) =>
  <T>(body: (store: EventStore, storage: DurableObjectStorage) => Promise<T>) =>
    runInDurableObject(freshHost(), async (_instance, state) => {
      write(state.storage, fixture.entries);
      const kv = createDurableObjectKv(state.storage);
      // Any call waits for the migration.
      await kv.read([]);
      const clock = createManualClock(fixture.meta.clock.end);
      return body(createReplica({ kv, clock }).store, state.storage);
    });
const inLegacyObject = inObjectWritten(putRaw);

/** What a migrated object's storage holds: its KV entries, its tables' rows, its layout. */
const storedState = async (_store: EventStore, storage: DurableObjectStorage) => ({
  kept: [...storage.kv.list()].map(([key, value]) => ({ key, value })),
  rows: indexRows(storage),
  small: smallRows(storage),
  tables: tables(storage),
  layout: layoutOf(storage),
});

describe('migration from the layout before index keys (legacy-kv.json)', () => {
  it('moves every index entry into the index table, each naming its event, the small records into theirs, and keeps every other entry', async () => {
    const result = await inLegacyObject(storedState);
    expect(result.tables).toEqual(['eventkv_index', 'eventkv_meta', 'eventkv_small']);
    expect(result.layout).toBe('3');
    // Every other entry as it was (the fixture's entries are in key order).
    expect(result.kept).toEqual(kept);
    // The fixture's heads, leases and log heads are plain: all of them are JSON rows now.
    expect(small.length).toBeGreaterThan(0);
    expect(result.small).toEqual(small);
    // Every pointer is an index key now, of the event it pointed to: the test's own reading.
    expect(result.rows).toEqual(
      pointers.map((p) => ({ ikey: p.key, key: legacyPointerTarget(p.key, p.value as Json) })),
    );
    const keys = new Set(records.map((r) => r.key));
    for (const row of result.rows) expect(keys.has(row.key), row.ikey).toBe(true);
  });

  legacyStoreTests({ expected, withStore: (body) => inLegacyObject((store) => body(store)) });

  it('writes no index row for a recorded append made again', async () => {
    const result = await inLegacyObject(async (store, storage) => {
      const { ref, sessionId } = expected.session;
      const session = await store.resume(ref, sessionId);
      const before = indexRows(storage).length;
      const retries = await retryAppends(store, expected.appends, session);
      await session.close();
      return { before, after: indexRows(storage).length, retries: retries.length };
    });
    expect(result).toEqual({
      before: pointers.length,
      after: pointers.length,
      retries: expected.appends.length,
    });
  });

  it('serves the sync edge through the object as before: pushes replayed from the client record, the first pull', async () => {
    // The object as deployed (no name: it holds both databases, as the fixture does),
    // called over RPC; its adapter migrates on the first call.
    const stub = env.STORE.get(env.STORE.newUniqueId());
    await runInDurableObject(stub, (_instance, state) => putRaw(state.storage, fixture.entries));
    const rpc = eventStoreObjectRpc(stub as never);
    const { principal, exchanges, replays, firstPull } = expected.edge;
    const pushes = (exchanges as Json[]).filter((e) => e.kind === 'push');
    expect(pushes).toHaveLength(replays.length);
    for (const [i, push] of pushes.entries()) {
      expect(unwrapResult(await rpc.syncPush({ principal, request: push.request }))).toEqual(
        replays[i],
      );
    }
    expect(unwrapResult(await rpc.syncPull({ principal, request: { protocol: 1 } }))).toEqual(
      firstPull,
    );
    const rows = await runInDurableObject(stub, (_instance, state) => indexRows(state.storage));
    expect(rows).toHaveLength(pointers.length);
  });

  it('runs once: a second adapter finds the marker and moves nothing, not even entries that look like pointers', async () => {
    const result = await runInDurableObject(freshHost(), async (_instance, state) => {
      putRaw(state.storage, fixture.entries);
      await createDurableObjectKv(state.storage).read([]);
      // A pointer-shaped entry written after the migration (by no one eventkv knows).
      putRaw(state.storage, [pointers[0]!]);
      await createDurableObjectKv(state.storage).read([]);
      return {
        rows: indexRows(state.storage).length,
        left: state.storage.kv.get(pointers[0]!.key),
      };
    });
    expect(result.rows).toBe(pointers.length);
    expect(result.left).toEqual(pointers[0]!.value);
  });

  it('leaves entries of other owners where they are, even under a pointer-like prefix', async () => {
    const others = [
      { key: 'app/i/settings', value: { version: 1 } }, // too few segments for a message id
      { key: 'app/g/latest', value: { type: 'T', id: 'x', version: 1 } }, // not a position
      { key: 'app/x/a/b/c/d', value: { type: 'T', id: 'x', version: 1 } }, // no time, no position
      { key: 'app/i/T/x/m', value: 'not a pointer' },
      { key: '#sync/i/client/c', value: { version: 1 } }, // another owner's keys
      { key: 'plain', value: 1 },
    ];
    const result = await runInDurableObject(freshHost(), (_instance, state) => {
      putRaw(state.storage, others);
      createDurableObjectKv(state.storage);
      return { kept: [...state.storage.kv.list()].length, rows: indexRows(state.storage) };
    });
    expect(result).toEqual({ kept: others.length, rows: [] });
    expect(others.map((o) => legacyTarget(o.key, o.value))).toEqual(others.map(() => undefined));
  });

  it('a fresh object gets the tables and the marker, and nothing else', async () => {
    const result = await runInDurableObject(freshHost(), async (_instance, state) => {
      const kv = createDurableObjectKv(state.storage);
      return {
        tables: tables(state.storage),
        entries: await kvScan(kv, {}),
        indexed: await kvScan(kv, { by: 'index' }),
      };
    });
    expect(result).toEqual({
      tables: ['eventkv_index', 'eventkv_meta', 'eventkv_small'],
      entries: [],
      indexed: [],
    });
  });
});

/** The entries the previous release wrote for `count` events over `streams` streams. */
const legacyEvents = (count: number, streams: number) => [...legacyEventEntries(count, streams)];

describe('migration of a large object', () => {
  const COUNT = 3000;

  it('moves a chunk per turn; reads and writes wait for the rest, and a second adapter joins in', async () => {
    const result = await runInDurableObject(freshHost(), async (_instance, state) => {
      const storage = state.storage;
      const entries = legacyEvents(COUNT, 20);
      for (let i = 0; i < entries.length; i += 5000) putRaw(storage, entries.slice(i, i + 5000));
      // Small chunks, so that the first one leaves most of the work for later turns.
      const rest = prepareStorage(storage, 500);
      const leftAfterFirstChunk = COUNT * 6 - indexRows(storage).length;
      const kv = createDurableObjectKv(storage);
      const store = createEventStore({ kv });
      const [log, query, version] = await Promise.all([
        store.readLog({ after: COUNT - 5, limit: 10 }),
        store.query('user', 'user-3', { limit: 1000 }),
        store.stream({ type: 'Account', id: 'acc 7' }).version(),
      ]);
      await rest;
      const appended = await store
        .stream({ type: 'Account', id: 'acc 7' })
        .append({ type: 'Deposited', data: { amount: 1 } }, { expectedVersion: version });
      return {
        leftAfterFirstChunk,
        rows: indexRows(storage).length,
        left: [...storage.kv.list()].filter(([key]) => POINTER.test(key)).length,
        log: log.events.map((e) => e.metadata.messageId),
        queried: query.events.length,
        version,
        appended,
      };
    });
    expect(result.leftAfterFirstChunk).toBeGreaterThan(0);
    // The new event's index keys: its message id, log position, event type and aggregate type.
    expect(result.rows).toBe(COUNT * 6 + 4);
    expect(result.left).toBe(0);
    expect(result.log).toEqual([2996, 2997, 2998, 2999, 3000].map((n) => `m-${n}`));
    expect(result.queried).toBe(Math.floor((COUNT - 3) / 7) + 1);
    expect(result.version).toBe(COUNT / 20);
    expect(result.appended).toMatchObject({ version: COUNT / 20 + 1, position: COUNT + 1 });
  });

  it('resumes a migration cut short: what was moved stays moved, the rest moves on the next start', async () => {
    const result = await runInDurableObject(freshHost(), async (_instance, state) => {
      const storage = state.storage;
      putRaw(storage, legacyEvents(300, 3));
      // Two chunks of 100, then the object "stops" (the generator is dropped).
      const steps = migrateLegacyEntries(storage, 100);
      await Promise.all(steps.next().value as Promise<unknown>[]);
      await Promise.all(steps.next().value as Promise<unknown>[]);
      const halfway = indexRows(storage).length;
      const marker = storage.sql.exec('SELECT count(*) AS n FROM eventkv_meta').one().n;
      await createDurableObjectKv(storage).read([]);
      return {
        halfway,
        marker,
        rows: indexRows(storage).length,
        left: [...storage.kv.list()].filter(([key]) => POINTER.test(key)).length,
      };
    });
    expect(result.halfway).toBeGreaterThan(0);
    expect(result.halfway).toBeLessThan(300 * 6);
    expect(result.marker).toBe(0);
    expect(result.rows).toBe(300 * 6);
    expect(result.left).toBe(0);
  });
});

/**
 * Writes `entries` (the layout before index keys) into `storage` as the release before this
 * one (layout 2) kept them: the pointer entries as rows of its index table naming their
 * events (the test's own reading, `legacyPointerTarget`), every other entry in the KV, and
 * its marker. Its tables as that release created them.
 */
const putLayout2 = (
  storage: DurableObjectStorage,
  entries: readonly { key: string; value: unknown }[],
) => {
  storage.sql.exec(
    'CREATE TABLE eventkv_index (ikey TEXT PRIMARY KEY, key TEXT NOT NULL) WITHOUT ROWID',
  );
  storage.sql.exec(
    'CREATE TABLE eventkv_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID',
  );
  storage.transactionSync(() => {
    for (const { key, value } of entries) {
      if (POINTER.test(key)) {
        storage.sql.exec(
          'INSERT INTO eventkv_index (ikey, key) VALUES (?, ?)',
          key,
          legacyPointerTarget(key, value as Json),
        );
      } else {
        storage.kv.put(key, value);
      }
    }
    storage.sql.exec("INSERT INTO eventkv_meta (name, value) VALUES ('layout', '2')");
  });
};

/** As `inLegacyObject`, from the layout of the release before this one. */
const inLayout2Object = inObjectWritten(putLayout2);

describe('migration from the layout of the previous release (layout 2: legacy-kv.json with its index table)', () => {
  it('moves every stream head, session lease and log head into eventkv_small, and keeps everything else', async () => {
    const result = await inLayout2Object(storedState);
    expect(result.tables).toEqual(['eventkv_index', 'eventkv_meta', 'eventkv_small']);
    expect(result.layout).toBe('3');
    expect(result.kept).toEqual(kept);
    expect(result.small).toEqual(small);
    expect(result.rows).toHaveLength(pointers.length);
  });

  legacyStoreTests({ expected, withStore: (body) => inLayout2Object((store) => body(store)) });

  it('leaves pointer-like entries (someone else’s, in layout 2) and values JSON would not keep in the KV', async () => {
    const result = await runInDurableObject(freshHost(), async (_instance, state) => {
      putLayout2(state.storage, []);
      const odd = { version: 1, timestamp: 1, at: new Date(7) };
      state.storage.transactionSync(() => {
        state.storage.kv.put(pointers[0]!.key, pointers[0]!.value);
        state.storage.kv.put('db/h/T/odd', odd);
        state.storage.kv.put('db/h/T/plain', { version: 2, timestamp: 2 });
      });
      const kv = createDurableObjectKv(state.storage);
      return {
        kv: [...state.storage.kv.list()].map(([key]) => key),
        small: smallRows(state.storage),
        rows: indexRows(state.storage),
        got: await kvGet(kv, ['db/h/T/odd', 'db/h/T/plain']),
      };
    });
    expect(result.kv).toEqual([pointers[0]!.key, 'db/h/T/odd'].sort());
    expect(result.small).toEqual([
      { key: 'db/h/T/odd', value: null },
      { key: 'db/h/T/plain', value: { version: 2, timestamp: 2 } },
    ]);
    expect(result.rows).toEqual([]);
    expect(result.got).toEqual([
      { version: 1, timestamp: 1, at: new Date(7) },
      { version: 2, timestamp: 2 },
    ]);
  });

  it('resumes a migration cut short, a chunk per turn meanwhile; reads and writes wait for it', async () => {
    const result = await runInDurableObject(freshHost(), async (_instance, state) => {
      const storage = state.storage;
      // 600 events over 300 streams: 300 heads and the log head to move.
      putLayout2(storage, legacyEvents(600, 300));
      const heads = [...storage.kv.list({ prefix: 'default/h/' })].length;
      const steps = migrateLegacyEntries(storage, 50, '2');
      await Promise.all(steps.next().value as Promise<unknown>[]);
      const halfway = smallRows(storage).length;
      const marker = layoutOf(storage);
      const rest = prepareStorage(storage, 50);
      const afterFirst = smallRows(storage).length;
      const store = createEventStore({ kv: createDurableObjectKv(storage) });
      const [version, log] = await Promise.all([
        store.stream({ type: 'Account', id: 'acc 7' }).version(),
        store.readLog({ after: 595 }),
      ]);
      await rest;
      const appended = await store
        .stream({ type: 'Account', id: 'acc 7' })
        .append({ type: 'Deposited', data: { amount: 1 } }, { expectedVersion: version });
      return {
        heads,
        halfway,
        marker,
        afterFirst,
        small: smallRows(storage).length,
        left: [...storage.kv.list()].filter(([key]) => SMALL.test(key)).length,
        version,
        log: log.events.map((e) => e.metadata.messageId),
        appended,
        layout: layoutOf(storage),
      };
    });
    expect(result.heads).toBe(300);
    expect(result.halfway).toBe(50);
    expect(result.marker).toBe('2');
    expect(result.afterFirst).toBe(100);
    expect(result.small).toBe(301);
    expect(result.left).toBe(0);
    expect(result.version).toBe(2);
    expect(result.log).toEqual([596, 597, 598, 599, 600].map((n) => `m-${n}`));
    expect(result.appended).toMatchObject({ version: 3, position: 601 });
    expect(result.layout).toBe('3');
  });
});
