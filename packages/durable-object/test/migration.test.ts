import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import {
  createEventStore,
  createSuperjsonCodec,
  type EventStore,
  type EventStream,
  type IndexName,
  type RecordedEvent,
} from '@eventkv/core';
import { kvScan } from '@eventkv/core/kv';
import { createReplica } from '@eventkv/core/replica';
import { createManualClock } from '@eventkv/core/testing';
import { describe, expect, it } from 'vitest';
import { createDurableObjectKv, eventStoreObjectRpc, unwrapResult } from '../src/index.js';
import { legacyTarget, migrateLegacyEntries, prepareStorage } from '../src/kv/layout.js';
import encoded from './fixtures/legacy-kv.json';
import { freshHost } from './in-object-kv.js';

// biome-ignore lint/suspicious/noExplicitAny: the fixture's answers, compared as recorded
type Json = any;
type EventRef = [type: string, id: string, version: number];

/** `legacy-kv.json` (see `fixtures/generate-legacy.ts`), decoded: Dates, Maps, bigints back. */
const fixture = createSuperjsonCodec().decode(encoded as never) as {
  meta: Json;
  entries: { key: string; value: unknown }[];
  expected: Json;
};
const { expected } = fixture;

/** The entries the previous release kept for index keys (message ids, log, queries). */
const POINTER = /^[^/#$]+\/[igx]\//;
const pointers = fixture.entries.filter((e) => POINTER.test(e.key));
const records = fixture.entries.filter((e) => !POINTER.test(e.key));

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

const refOf = (e: RecordedEvent): EventRef => [
  e.metadata.aggregateType,
  e.metadata.aggregateId,
  e.version,
];

/** A recorded event as an append's input again, as the fixture's generator made its retries. */
const asInput = (e: RecordedEvent) => {
  const m = e.metadata;
  return {
    type: e.type,
    ...(e.data === undefined ? {} : { data: e.data }),
    metadata: {
      messageId: m.messageId,
      schemaVersion: m.schemaVersion,
      ...(m.userId === undefined ? {} : { userId: m.userId }),
      ...(m.correlationId === undefined ? {} : { correlationId: m.correlationId }),
      ...(m.causationId === undefined ? {} : { causationId: m.causationId }),
    },
  };
};

/** Every page of a query (pages of 10, as recorded), concatenated. */
const queryAll = async (
  store: EventStore,
  index: IndexName,
  value: string,
  options: Json,
): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.query(index, value, {
      ...options,
      limit: 10,
      ...(cursor ? { cursor } : {}),
    });
    events.push(...page.events);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return events;
};

/**
 * Runs `body` in a fresh object whose storage holds the previous release's entries, with
 * the store the object hosts (`createReplica`, default options) over this adapter, at the
 * fixture's clock (its session lease is still held then).
 */
const inLegacyObject = <T>(
  body: (store: EventStore, storage: DurableObjectStorage) => Promise<T>,
) =>
  runInDurableObject(freshHost(), async (_instance, state) => {
    putRaw(state.storage, fixture.entries);
    const kv = createDurableObjectKv(state.storage);
    // Any call waits for the migration.
    await kv.read([]);
    const clock = createManualClock(fixture.meta.clock.end);
    return body(createReplica({ kv, clock }).store, state.storage);
  });

describe('migration from the layout of the previous release (legacy-kv.json)', () => {
  it('moves every index entry into the index table, each naming its event, and keeps every other entry', async () => {
    const result = await inLegacyObject(async (_store, storage) => ({
      kept: [...storage.kv.list()].map(([key, value]) => ({ key, value })),
      rows: indexRows(storage),
      tables: tables(storage),
      layout: storage.sql.exec("SELECT value FROM eventkv_meta WHERE name = 'layout'").one().value,
    }));
    expect(result.tables).toEqual(['eventkv_index', 'eventkv_meta']);
    expect(result.layout).toBe('2');
    // Every other entry as it was (the fixture's entries are in key order).
    expect(result.kept).toEqual(records);
    // Every pointer is an index key now, of the event it pointed to: the test's own reading.
    const pad = (n: number) => String(n).padStart(16, '0');
    const eventOf = (key: string, value: Json) => {
      const [db, kind, type, id] = key.split('/');
      return kind === 'i'
        ? `${db}/e/${type}/${id}/${pad(value.version)}`
        : `${db}/e/${encodeURIComponent(value.type)}/${encodeURIComponent(value.id)}/${pad(value.version)}`;
    };
    expect(result.rows).toEqual(
      pointers.map((p) => ({ ikey: p.key, key: eventOf(p.key, p.value) })),
    );
    const keys = new Set(records.map((r) => r.key));
    for (const row of result.rows) expect(keys.has(row.key), row.ikey).toBe(true);
  });

  it("answers every read of the previous release's store as it did", async () => {
    await inLegacyObject(async (store) => {
      expect(store.capabilities).toEqual(expected.capabilities);
      for (const s of expected.streams) {
        const stream = store.stream(s.ref);
        expect(await stream.version()).toBe(s.version);
        expect(await stream.read()).toEqual(s.events);
        expect(await stream.snapshotVersions()).toEqual(s.snapshotVersions);
        for (const [i, version] of s.snapshotVersions.entries()) {
          expect(await stream.snapshotAt(version)).toEqual(s.snapshots[i]);
        }
        const load = await stream.load();
        expect({
          snapshot: load.snapshot,
          version: load.version,
          eventVersions: load.events.map((e) => e.version),
        }).toEqual(s.load);
      }
      for (const { database, limit, pages } of expected.logs) {
        for (const page of pages) {
          const read = await store.readLog({ database, after: page.after, limit });
          expect(read.position, `${database} log after ${page.after}`).toBe(page.position);
          expect(read.events.map(refOf)).toEqual(page.eventRefs);
        }
      }
      for (const q of [...expected.queries, ...expected.windowedQueries]) {
        const window = q.since === undefined ? {} : { since: q.since, until: q.until };
        const found = await queryAll(store, q.index, q.value, { database: q.database, ...window });
        expect(found.map(refOf), `${q.database} ${q.index}=${q.value}`).toEqual(q.eventRefs);
      }
      for (const { ref, messageId, version } of expected.messageIds) {
        expect(await store.stream(ref).versionOf(messageId), messageId).toBe(version);
      }
    });
  });

  it('deduplicates every recorded append made again, resumes the open session, and appends on from the old heads', async () => {
    await inLegacyObject(async (store, storage) => {
      const { ref, sessionId, expiresAt } = expected.session;
      // The lease is still held: a new session cannot open, the recorded one resumes.
      await expect(store.open(ref)).rejects.toMatchObject({ code: 'OPEN_FAILED' });
      const session = await store.resume(ref, sessionId);
      expect(session.sessionId).toBe(sessionId);
      expect(session.expiresAt).toBeGreaterThanOrEqual(expiresAt);
      const rows = indexRows(storage).length;
      for (const made of expected.appends) {
        const handle: EventStream = made.retryThroughSession ? session : store.stream(made.ref);
        const { firstVersion, version } = made.result;
        const recorded = await handle.read({ from: firstVersion, to: version });
        const retry = await handle.append(recorded.map(asInput) as never, made.options);
        expect(retry, `retry of ${made.ref.id} v${firstVersion}..${version}`).toEqual(
          made.retry.result,
        );
      }
      // Nothing was written by the retries; the next append goes on from the old heads.
      expect(indexRows(storage)).toHaveLength(rows);
      const acc1 = expected.streams[0];
      const lastPosition = expected.logs[0].pages.at(-1).position;
      const next = await store
        .stream(acc1.ref)
        .append(
          { type: 'Deposited', data: { amount: 1 }, metadata: { messageId: 'after-migration' } },
          { expectedVersion: acc1.version },
        );
      expect(next).toMatchObject({ version: acc1.version + 1, position: lastPosition + 1 });
      expect(await store.stream(acc1.ref).versionOf('after-migration')).toBe(acc1.version + 1);
      const log = await store.readLog({ after: lastPosition });
      expect(log.events.map(refOf)).toEqual([['BankAccount', 'acc-1', acc1.version + 1]]);
      // A message id of the old layout still clashes with a new event under another version.
      await expect(
        store
          .stream(acc1.ref)
          .append(
            { type: 'Deposited', data: { amount: 1 }, metadata: { messageId: 'open-acc-1/1' } },
            { expectedVersion: acc1.version + 1 },
          ),
      ).rejects.toMatchObject({ code: 'DUPLICATE_IDEMPOTENCY_ID' });
      await session.close();
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

  it('a fresh object gets both tables and the marker, and nothing else', async () => {
    const result = await runInDurableObject(freshHost(), async (_instance, state) => {
      const kv = createDurableObjectKv(state.storage);
      return {
        tables: tables(state.storage),
        entries: await kvScan(kv, {}),
        indexed: await kvScan(kv, { by: 'index' }),
      };
    });
    expect(result).toEqual({ tables: ['eventkv_index', 'eventkv_meta'], entries: [], indexed: [] });
  });
});

const pad = (n: number) => n.toString().padStart(16, '0');

/**
 * The entries the previous release wrote for `count` events spread over `streams` streams
 * of the `default` database (global log and the four indexes), as its defaults did.
 */
const legacyEvents = (count: number, streams: number) => {
  const entries: { key: string; value: unknown }[] = [];
  const versions = new Array<number>(streams).fill(0);
  const start = Date.UTC(2026, 0, 1);
  for (let position = 1; position <= count; position++) {
    const s = position % streams;
    const id = `acc ${s}`;
    const encodedId = encodeURIComponent(id);
    const version = ++versions[s]!;
    const timestamp = start + position * 1000;
    const messageId = `m-${position}`;
    const userId = `user-${position % 7}`;
    const correlationId = `c/${position % 13}`;
    const type = position % 3 === 0 ? 'Withdrawn' : 'Deposited';
    entries.push({
      key: `default/e/Account/${encodedId}/${pad(version)}`,
      value: {
        type,
        version,
        position,
        data: { amount: position % 100 },
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
    });
    entries.push({ key: `default/h/Account/${encodedId}`, value: { version, timestamp } });
    entries.push({ key: `default/i/Account/${encodedId}/${messageId}`, value: { version } });
    const pointer = { type: 'Account', id, version };
    const suffix = `${pad(timestamp)}/${pad(position)}`;
    entries.push({ key: `default/g/${pad(position)}`, value: pointer });
    entries.push({ key: `default/x/eventType/${type}/${suffix}`, value: pointer });
    entries.push({ key: `default/x/aggregateType/Account/${suffix}`, value: pointer });
    entries.push({ key: `default/x/user/${userId}/${suffix}`, value: pointer });
    entries.push({
      key: `default/x/correlation/${encodeURIComponent(correlationId)}/${suffix}`,
      value: pointer,
    });
  }
  entries.push({ key: 'default/m/log', value: { position: count } });
  return entries;
};

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
