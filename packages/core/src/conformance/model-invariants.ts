import { databaseKeys, encodeName, INDEX_NAMES, type IndexName, streamKeys } from '../keys.js';
import { kvGet, kvScan } from '../kv/access.js';
import { emulatedIndexKey } from '../kv/emulated-indexes.js';
import type { EventStore } from '../store.js';
import type { RecordedEvent } from '../types.js';
import type { BankEvent } from './harness.js';
import {
  DATABASES,
  INDEX_VALUES,
  indexed,
  isPendingOn,
  logOf,
  type Model,
  type Real,
  recorded,
  recordedAt,
  type SnapshotState,
  type StreamDef,
  same,
  unusable,
} from './model-world.js';

/** More events than any test here appends. */
const MAX_EVENTS = 100_000;

export interface QueryWindow {
  readonly since?: number;
  readonly until?: number;
  readonly limit?: number;
}

/** Every page of an index query, following cursors; pages must be full but the last. */
export const queryAll = async (
  store: EventStore<BankEvent>,
  database: string,
  index: IndexName,
  value: string,
  window: QueryWindow,
): Promise<RecordedEvent<BankEvent>[]> => {
  const limit = window.limit ?? 100;
  const out: RecordedEvent<BankEvent>[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.query(index, value, {
      database,
      ...window,
      ...(cursor === undefined ? {} : { cursor }),
    });
    out.push(...page.events);
    // A cursor that fails to move on would page forever: more events than were ever
    // appended means the query is not advancing.
    if (out.length > MAX_EVENTS) throw new Error(`query ${index}=${value} does not end`);
    if (page.cursor === undefined) {
      if (page.events.length > limit) same(page.events.length, limit);
      return out;
    }
    same(page.events.length, limit);
    cursor = page.cursor;
  }
};

/** The global log after a position, a page at a time, until a page comes back empty. */
export const readLogAll = async (
  store: EventStore<BankEvent>,
  database: string,
  after: number,
  limit: number,
): Promise<RecordedEvent<BankEvent>[]> => {
  const out: RecordedEvent<BankEvent>[] = [];
  let position = after;
  for (;;) {
    const page = await store.readLog({ database, after: position, limit });
    if (page.events.length > limit) same(page.events.length, limit);
    if (page.events.length === 0) {
      same(page.position, position);
      return out;
    }
    out.push(...page.events);
    same(page.position, page.events.at(-1)?.position);
    if (page.position <= position) throw new Error(`readLog after ${position} went backwards`);
    position = page.position;
  }
};

export const leaseKey = (def: StreamDef): string =>
  streamKeys(def.database, def.type, def.id).lease;

/** What a snapshot read must return. */
export const expectedSnapshot = (m: Model, st: number, version: number) => {
  const snap = m.streams[st]!.snapshots.get(version)!;
  return { version, state: snap.state, takenAt: snap.takenAt };
};

const sortedVersions = (m: Model, st: number): number[] =>
  [...m.streams[st]!.snapshots.keys()].sort((a, b) => a - b);

/** Session handles agree with the model, and at most one of them may write per stream. */
const checkHandles = (m: Model, r: Real): void => {
  const live = new Map<number, string[]>();
  const all = [...m.sessions.flat(), ...m.retired];
  const real = [...r.sessions.flat(), ...r.retired];
  all.forEach((s, i) => {
    const handle = real[i];
    same(handle === undefined, s === undefined);
    if (!s || !handle) return;
    same(
      {
        sessionId: handle.sessionId,
        expiresAt: handle.expiresAt,
        closed: handle.closed,
      },
      { sessionId: s.sessionId, expiresAt: s.expiresAt, closed: s.closed },
    );
    if (!unusable(m, s)) live.set(s.stream, [...(live.get(s.stream) ?? []), s.sessionId]);
  });
  for (const [st, ids] of live) {
    same(ids.length, 1);
    same(m.streams[st]!.lease?.sessionId, ids[0]);
  }
};

/**
 * Everything the store holds agrees with the model: each stream's events (versions 1..n,
 * payloads, metadata), head, idempotency entries, snapshots and lease; each database's
 * global log (every event exactly once, positions 1..N) and every index value; and no
 * key is left over anywhere (a half-undone write would show up here).
 */
export const checkInvariants = async (m: Model, r: Real): Promise<void> => {
  same(r.clock.now(), m.now);
  checkHandles(m, r);
  // Records, and index keys (message ids, log positions, index entries) apart: an
  // adapter keeps the latter in its own indexes, or core emulates them with `$` entries.
  let expectedKeys = 0;
  let expectedIndexKeys = 0;

  for (const [st, stream] of m.streams.entries()) {
    const { def } = stream;
    const keys = streamKeys(def.database, def.type, def.id);
    const handle = r.observer.stream(def);
    const [lease] = await kvGet(r.inner, [keys.lease]);
    same(lease, stream.lease);
    expectedKeys += stream.lease ? 1 : 0;

    const versions = sortedVersions(m, st);
    same(await handle.snapshotVersions(), versions);
    for (const v of versions) {
      same(await handle.snapshotAt<SnapshotState>(v), expectedSnapshot(m, st, v));
    }
    const latest = versions.at(-1);
    same(
      await handle.latestSnapshot(),
      latest === undefined ? undefined : expectedSnapshot(m, st, latest),
    );
    expectedKeys += versions.length;

    if (isPendingOn(m, st)) continue;
    const n = stream.events.length;
    same(
      await handle.read(),
      stream.events.map((e) => recorded(def, e)),
    );
    same(await handle.version(), n);
    const [head] = await kvGet(r.inner, [keys.head]);
    same(head, n === 0 ? undefined : { version: n, timestamp: stream.events.at(-1)?.timestamp });
    const events = await kvScan(r.inner, { prefix: keys.eventPrefix });
    same(
      events.map((e) => e.key),
      stream.events.map((e) => keys.event(e.version)),
    );
    const ids = await kvScan(r.inner, { by: 'index', prefix: keys.idempotencyPrefix });
    same(
      new Map(ids.map((e) => [e.indexKey, (e.value as { version: number }).version])),
      new Map([...stream.ids].map(([id, version]) => [keys.idempotency(id), version])),
    );
    expectedKeys += n + (n > 0 ? 1 : 0);
    expectedIndexKeys += ids.length;
  }
  for (const db of DATABASES) {
    if (m.pending.has(db)) continue;
    const log = logOf(m, db);
    same(
      await readLogAll(r.observer, db, 0, 7),
      log.map((entry) => recordedAt(m, entry)),
    );
    const keys = databaseKeys(db);
    const [logHead] = await kvGet(r.inner, [keys.logHead]);
    same(logHead, log.length === 0 ? undefined : { position: log.length });
    same((await kvScan(r.inner, { by: 'index', prefix: keys.logPrefix })).length, log.length);
    let entries = 0;
    for (const index of INDEX_NAMES) {
      for (const value of INDEX_VALUES[index]) {
        const want = indexed(m, db, index, value);
        entries += want.length;
        same(await queryAll(r.observer, db, index, value, {}), want);
      }
    }
    same((await kvScan(r.inner, { by: 'index', prefix: `${encodeName(db)}/x/` })).length, entries);
    expectedKeys += log.length > 0 ? 1 : 0;
    expectedIndexKeys += log.length + entries;
  }

  if (m.pending.size === 0) {
    const records = (await kvScan(r.inner, {})).filter(
      ({ key }) => !key.startsWith(emulatedIndexKey('')),
    );
    same(records.length, expectedKeys);
    same((await kvScan(r.inner, { by: 'index' })).length, expectedIndexKeys);
  }
};
