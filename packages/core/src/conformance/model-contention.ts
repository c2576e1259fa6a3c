import { expect } from 'vitest';
import {
  isOpenFailedError,
  isSessionExpiredError,
  isStreamLockedError,
  isVersionMismatchError,
} from '../errors.js';
import { INDEX_NAMES, streamKeys } from '../keys.js';
import { kvScan } from '../kv/access.js';
import type { Session } from '../session.js';
import type { EventStream } from '../stream.js';
import { seededRandom as seeded } from '../testing/seeded-random.js';
import type { AppendResult, ExpectedVersion, RecordedEvent } from '../types.js';
import type { BankEvent, Harness } from './harness.js';
import { queryAll, readLogAll } from './model-invariants.js';
import { type Draft, draftOf, INDEX_VALUES, type StreamDef, same, toInput } from './model-world.js';

/**
 * SC-007: many writers interleaved on a few streams, with no faults, must leave zero
 * corruption. Eight workers share four stores (one KV, one clock) and take turns at every
 * await; each draws its next operation from one seeded generator, so on a deterministic
 * backend the whole schedule is the same on every run. Every acknowledged append is
 * recorded; at the end the streams must hold exactly those events, once each, at the
 * versions they were acknowledged with, and the log and indexes must agree.
 */

const OPERATIONS = 1_000;
const WORKERS = 8;
const STORES = 4;
const SESSION_TIMEOUT_MS = 400;

/**
 * Without the global log, nothing but the stream head serializes two appends to one
 * stream, so the last database is written by stores that do not keep it.
 */
const UNLOGGED = 'unlogged';
const STREAMS: readonly StreamDef[] = [
  { database: 'default', type: 'Account', id: 'x' },
  { database: 'default', type: 'Ledger', id: 'y' },
  { database: 'tenant-b', type: 'Account', id: 'x' },
  { database: UNLOGGED, type: 'Account', id: 'x' },
];

interface Acknowledged {
  readonly stream: number;
  readonly drafts: readonly Draft[];
  readonly expected: ExpectedVersion;
  readonly result: AppendResult;
}

export interface ContentionStats {
  operations: number;
  appended: number;
  conflicts: number;
  locked: number;
  opened: number;
  openFailed: number;
  expired: number;
  deduplicated: number;
}

export const runContention = async (
  h: Harness,
  atomic: boolean,
  seed = 0x5c007,
): Promise<ContentionStats> => {
  const random = seeded(seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const storesOf = (logged: boolean) =>
    Array.from({ length: STORES }, (_, w) => {
      let n = 0;
      return h.store<BankEvent>({
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        generateId: () => `c${w}-${logged ? '' : 'u'}${++n}`,
        ...(logged ? {} : { globalLog: false, indexes: false }),
      });
    });
  const logged = storesOf(true);
  const unlogged = storesOf(false);
  const storeFor = (w: number, st: number) =>
    (STREAMS[st]!.database === UNLOGGED ? unlogged : logged)[w]!;
  /** Per stream: version -> the event acknowledged there. */
  const owners = STREAMS.map(() => new Map<number, Draft>());
  const acknowledged: Acknowledged[] = [];
  const stats: ContentionStats = {
    operations: 0,
    appended: 0,
    conflicts: 0,
    locked: 0,
    opened: 0,
    openFailed: 0,
    expired: 0,
    deduplicated: 0,
  };
  let nextId = 0;

  const drafts = (): Draft[] =>
    Array.from({ length: 1 + pick(3) }, () =>
      draftOf(
        {
          kind: pick(4),
          amount: 1 + pick(999),
          user: random() < 0.5 ? pick(2) : undefined,
          correlation: random() < 0.5 ? pick(2) : undefined,
          caused: false,
        },
        `c-${++nextId}`,
      ),
    );

  /** Two acknowledgements for one version would be a lost update: SC-002 forbids it. */
  const acknowledge = (
    st: number,
    batch: readonly Draft[],
    expected: ExpectedVersion,
    result: AppendResult,
  ) => {
    same(result.deduplicated, false);
    same(result.version, result.firstVersion + batch.length - 1);
    if (typeof expected === 'number') same(result.firstVersion, expected + 1);
    batch.forEach((draft, i) => {
      const version = result.firstVersion + i;
      if (owners[st]!.has(version)) throw new Error(`s${st} v${version} acknowledged twice`);
      owners[st]!.set(version, draft);
    });
    acknowledged.push({ stream: st, drafts: batch, expected, result });
    stats.appended += 1;
  };

  /** The refusals a writer may meet under contention; anything else is a failure. */
  const tolerate = (error: unknown, expected?: number): void => {
    if (isVersionMismatchError(error)) {
      same(error.expected, expected);
      // The head only moves forward, so a conflict always reports a later version.
      if (error.actual <= (expected ?? 0)) throw error;
      stats.conflicts += 1;
    } else if (isStreamLockedError(error)) stats.locked += 1;
    else if (isSessionExpiredError(error)) stats.expired += 1;
    else throw error;
  };

  const optimistic = async (stream: EventStream<BankEvent>, st: number, symbolic: boolean) => {
    const version = await stream.version();
    const expected: ExpectedVersion = symbolic ? 'any' : version;
    const batch = drafts();
    try {
      acknowledge(
        st,
        batch,
        expected,
        await stream.append(batch.map(toInput), { expectedVersion: expected }),
      );
    } catch (error) {
      tolerate(error, symbolic ? undefined : version);
    }
  };

  const inSession = async (w: number, st: number) => {
    let session: Session<BankEvent>;
    try {
      session = await storeFor(w, st).open(STREAMS[st]!);
    } catch (error) {
      if (!isOpenFailedError(error)) throw error;
      stats.openFailed += 1;
      return;
    }
    stats.opened += 1;
    try {
      for (let i = 0, n = 1 + pick(3); i < n; i++) {
        const version = await session.version();
        const batch = drafts();
        try {
          acknowledge(
            st,
            batch,
            version,
            await session.append(batch.map(toInput), { expectedVersion: version }),
          );
        } catch (error) {
          // With an atomic backend the lease shuts every other writer out, so a session
          // never meets a conflict; the sequential path checks the lease only up front.
          if (atomic && isVersionMismatchError(error)) throw error;
          tolerate(error, version);
        }
        if (random() < 0.2) h.clock.advance(100 + pick(300));
      }
    } catch (error) {
      tolerate(error);
    } finally {
      // Some sessions are abandoned: their lease must simply run out.
      if (random() < 0.8) await session.close();
    }
  };

  const retry = async (w: number) => {
    const earlier = acknowledged[pick(acknowledged.length)];
    if (!earlier) return;
    try {
      const result = await storeFor(w, earlier.stream)
        .stream(STREAMS[earlier.stream]!)
        .append(earlier.drafts.map(toInput), { expectedVersion: earlier.expected });
      same(result, { ...earlier.result, deduplicated: true });
      stats.deduplicated += 1;
    } catch (error) {
      if (!isStreamLockedError(error)) throw error;
      stats.locked += 1;
    }
  };

  /** Every append acknowledged before the read started is in it, where it was put. */
  const readBack = async (stream: EventStream<BankEvent>, st: number) => {
    const known = [...owners[st]!];
    const events = await stream.read();
    events.forEach((e, i) => {
      same(e.version, i + 1);
    });
    for (const [version, draft] of known) {
      same(events[version - 1]?.metadata.messageId, draft.meta.messageId);
    }
  };

  const snapshot = async (stream: EventStream<BankEvent>) => {
    const version = await stream.version();
    if (version === 0) return;
    try {
      await stream.saveSnapshot(version, { version });
    } catch (error) {
      tolerate(error);
    }
  };

  const worker = async (id: number) => {
    const w = id % STORES;
    while (stats.operations < OPERATIONS) {
      stats.operations += 1;
      const roll = random();
      const st = pick(STREAMS.length);
      const stream = storeFor(w, st).stream(STREAMS[st]!);
      if (roll < 0.4) await optimistic(stream, st, false);
      else if (roll < 0.5) await optimistic(stream, st, true);
      else if (roll < 0.65) await inSession(w, st);
      else if (roll < 0.75) await retry(w);
      else if (roll < 0.9) await readBack(stream, st);
      else if (roll < 0.95) await snapshot(stream);
      else h.clock.advance(pick(150));
    }
  };

  await Promise.all(Array.from({ length: WORKERS }, (_, id) => worker(id)));
  h.clock.advance(10 * SESSION_TIMEOUT_MS);
  await checkNoCorruption(h, owners);
  return stats;
};

const checkNoCorruption = async (h: Harness, owners: readonly Map<number, Draft>[]) => {
  const observer = h.store<BankEvent>();
  const byStream: RecordedEvent<BankEvent>[][] = [];
  for (const [st, def] of STREAMS.entries()) {
    const owned = owners[st]!;
    const events = await observer.stream(def).read();
    same(await observer.stream(def).version(), owned.size);
    same(events.length, owned.size);
    events.forEach((e, i) => {
      const draft = owned.get(i + 1)!;
      same(e.version, i + 1);
      same(
        { type: e.type, data: 'data' in e ? e.data : undefined, meta: e.metadata.messageId },
        {
          type: draft.event.type,
          data: 'data' in draft.event ? draft.event.data : undefined,
          meta: draft.meta.messageId,
        },
      );
    });
    const keys = streamKeys(def.database, def.type, def.id);
    same((await kvScan(h.kv, { prefix: keys.eventPrefix })).length, owned.size);
    same((await kvScan(h.kv, { by: 'index', prefix: keys.idempotencyPrefix })).length, owned.size);
    byStream.push(events);
  }
  same((await observer.readLog({ database: UNLOGGED })).events, []);
  for (const db of new Set(STREAMS.map((s) => s.database))) {
    if (db === UNLOGGED) continue;
    const log = await readLogAll(observer, db, 0, 97);
    const expected = STREAMS.flatMap((def, st) => (def.database === db ? byStream[st]! : []));
    same(log.length, expected.length);
    log.forEach((e, i) => {
      same(e.position, i + 1);
    });
    // Every event of the database exactly once, in an order consistent with each stream.
    const seen = new Set(
      log.map((e) => `${e.metadata.aggregateType}/${e.metadata.aggregateId}/${e.version}`),
    );
    same(seen.size, expected.length);
    for (const e of expected) {
      expect(log[e.position! - 1]).toStrictEqual(e);
    }
    for (const index of INDEX_NAMES) {
      for (const value of INDEX_VALUES[index]) {
        const want = log
          .filter((e) => {
            const meta = e.metadata;
            const actual = {
              eventType: e.type,
              aggregateType: meta.aggregateType,
              user: meta.userId,
              correlation: meta.correlationId,
            }[index];
            return actual === value;
          })
          .sort((a, b) => a.metadata.timestamp - b.metadata.timestamp || a.position! - b.position!);
        same(await queryAll(observer, db, index, value, {}), want);
      }
    }
  }
};
