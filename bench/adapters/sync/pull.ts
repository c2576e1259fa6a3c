/**
 * The pull benchmark, on whatever `indexedDB` the global scope has (the real one in a
 * Chromium page, fake-indexeddb in Node). The edge runs in the same place, in process, over
 * a memory KV; both subjects pull the same log from it:
 *
 * - eventkv: a fresh synced store on a new IndexedDB database, one `sync.syncNow()`;
 * - the floor: `readLog` pages of the size the engine asks for, through the same wire JSON
 *   round trip as `createEdgeRemote`, and per page one `readwrite` transaction with one
 *   `put` per event (and one for the cursor) into a plain object store.
 */
import { createMemoryKv, fromWireJson, type RecordedEvent, toWireJson } from '@eventkv/core';
import { createReplica, type Replica } from '@eventkv/core/replica';
import { createIndexedDbKv } from '@eventkv/indexeddb';
import { createEdgeRemote, createSyncedStore } from '@eventkv/sync';
import { createSyncEdge, type SyncEdge } from '@eventkv/sync/edge';
import { deleteDB, openDB } from 'idb';
import { type Deposit, makeDeposits } from '../../src/subject.js';
import type { Timings } from './stats.js';

export type Durability = 'strict' | 'relaxed';

export interface PullSizes {
  /** Events on the edge. */
  readonly events: number;
  /** Streams they are spread over (events / streams each). */
  readonly streams: number;
  /** Events per append when the edge is filled, stream after stream in rounds. */
  readonly appendSize: number;
}

/** The engine's pull page (`PULL_LIMIT` in packages/sync/src/engine.ts): the floor's too. */
export const PULL_PAGE = 500;

export interface PullInput {
  readonly sizes: PullSizes;
  readonly reps: number;
  readonly durability: Durability;
  /** Also time a replica without secondary indexes (`indexes: false`). */
  readonly lean: boolean;
}

export interface PullResult {
  readonly eventkv: Timings;
  /** `indexes: false` (only with `lean`). */
  readonly eventkvLean?: Timings;
  readonly floor: Timings;
  /** Seconds spent filling the edges (untimed). */
  readonly setupSeconds: number;
}

const DATABASE = 'bench';
const PRINCIPAL = { database: DATABASE, user: 'bench' };
let databases = 0;
const freshName = (label: string) => `bench-sync-${label}-${Date.now()}-${++databases}`;

/**
 * An edge over a memory KV holding `events` events over `streams` streams: rounds of one
 * append of `appendSize` events to each stream in turn, as many writers would leave the log.
 */
const filledEdge = async (
  sizes: PullSizes,
): Promise<{ edge: SyncEdge; replica: Replica<Deposit> }> => {
  const replica = createReplica<Deposit>({ kv: createMemoryKv() });
  const perStream = Math.floor(sizes.events / sizes.streams);
  const versions = new Array<number>(sizes.streams).fill(0);
  let made = 0;
  while (versions[0]! < perStream) {
    for (let s = 0; s < sizes.streams; s++) {
      const count = Math.min(sizes.appendSize, perStream - versions[s]!);
      if (count <= 0) continue;
      await replica.store
        .stream({ database: DATABASE, type: 'Account', id: `acc-${s}` })
        .append(makeDeposits(count, made), { expectedVersion: versions[s]! });
      versions[s]! += count;
      made += count;
    }
  }
  return { edge: createSyncEdge({ replica }), replica };
};

/** eventkv: a new replica on a new IndexedDB database pulls the whole edge. */
const pullWithEventkv = async (
  edge: SyncEdge,
  expected: number,
  durability: Durability,
  lean = false,
): Promise<number> => {
  const name = freshName('replica');
  const kv = createIndexedDbKv({ name, durability });
  const store = createSyncedStore<Deposit>({
    kv,
    remote: createEdgeRemote(edge, PRINCIPAL),
    ...(lean ? { indexes: false } : {}),
  });
  try {
    const t0 = performance.now();
    const { pulled } = await store.sync.syncNow();
    const ms = performance.now() - t0;
    if (pulled !== expected) throw new Error(`eventkv pulled ${pulled}, expected ${expected}`);
    const last = await store.readLog({ after: expected - 1, limit: 2 });
    if (last.events.length !== 1) throw new Error('eventkv: the replica misses events');
    return ms;
  } finally {
    await kv.close();
    await deleteDB(name);
  }
};

const OBJECTS = 'events';

/** The floor: pages of the log through the wire form, one transaction per page. */
const pullWithFloor = async (
  replica: Replica<Deposit>,
  expected: number,
  durability: Durability,
): Promise<number> => {
  const name = freshName('floor');
  const db = await openDB(name, 1, {
    upgrade(upgrading) {
      upgrading.createObjectStore(OBJECTS);
    },
  });
  try {
    const t0 = performance.now();
    let after = 0;
    let stored = 0;
    for (;;) {
      const page = fromWireJson(
        toWireJson(await replica.store.readLog({ database: DATABASE, after, limit: PULL_PAGE })),
      ) as { events: RecordedEvent[]; position: number };
      const tx = db.transaction(OBJECTS, 'readwrite', { durability });
      for (const event of page.events) {
        void tx.store.put(event, [
          event.metadata.aggregateType,
          event.metadata.aggregateId,
          event.version,
        ]);
      }
      // Where the next pull starts, kept with the page (as a resumable pull must).
      void tx.store.put(page.position, '#cursor');
      await tx.done;
      stored += page.events.length;
      after = page.position;
      if (page.events.length < PULL_PAGE) break;
    }
    const ms = performance.now() - t0;
    if (stored !== expected) throw new Error(`floor stored ${stored}, expected ${expected}`);
    const count = await db.count(OBJECTS);
    if (count !== expected + 1) throw new Error(`floor: ${count - 1} events in the database`);
    return ms;
  } finally {
    db.close();
    await deleteDB(name);
  }
};

/**
 * One warm-up round on a small edge (a twentieth of the size), then `reps` rounds on the
 * full one, each round starting with the next subject.
 */
export const runPullBench = async (
  input: PullInput,
  log: (text: string) => void,
): Promise<PullResult> => {
  const { sizes, reps, durability, lean } = input;
  const perStream = Math.floor(sizes.events / sizes.streams);
  const total = perStream * sizes.streams;
  const small: PullSizes = {
    ...sizes,
    events: Math.max(sizes.streams, Math.floor(total / 20)),
  };
  const smallTotal = Math.floor(small.events / small.streams) * small.streams;
  const t0 = performance.now();
  const warm = await filledEdge(small);
  const full = await filledEdge(sizes);
  const setupSeconds = (performance.now() - t0) / 1000;
  log(`pull: edges filled in ${setupSeconds.toFixed(1)} s (${total} and ${smallTotal} events)`);
  await pullWithEventkv(warm.edge, smallTotal, durability);
  await pullWithFloor(warm.replica, smallTotal, durability);
  if (lean) await pullWithEventkv(warm.edge, smallTotal, durability, true);
  const eventkv: number[] = [];
  const eventkvLean: number[] = [];
  const floor: number[] = [];
  for (let round = 0; round < reps; round++) {
    const all = [
      async () => eventkv.push(await pullWithEventkv(full.edge, total, durability)),
      async () => floor.push(await pullWithFloor(full.replica, total, durability)),
      ...(lean
        ? [async () => eventkvLean.push(await pullWithEventkv(full.edge, total, durability, true))]
        : []),
    ];
    // Each round starts one subject later, so drift and background load hit them alike.
    const turn = [...all.slice(round % all.length), ...all.slice(0, round % all.length)];
    for (const run of turn) await run();
    log(
      `pull round ${round + 1}/${reps}: eventkv ${eventkv.at(-1)!.toFixed(0)} ms, ` +
        `${lean ? `indexes: false ${eventkvLean.at(-1)!.toFixed(0)} ms, ` : ''}floor ${floor.at(-1)!.toFixed(0)} ms`,
    );
  }
  return {
    eventkv: { ms: eventkv, units: total },
    ...(lean ? { eventkvLean: { ms: eventkvLean, units: total } } : {}),
    floor: { ms: floor, units: total },
    setupSeconds,
  };
};
