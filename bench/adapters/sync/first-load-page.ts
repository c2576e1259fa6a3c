/**
 * The page side of the first-load bench (`first-load.ts` runs it in Chromium): seeds a
 * replica on IndexedDB with pending events, and, in a fresh page each time, times what an
 * app's first screen needs of it, or the floor's reads of the same records.
 */
import type { StreamId } from '@eventkv/core';
import { createIndexedDbKv } from '@eventkv/indexeddb';
import { createSyncedStore, type SyncRemote } from '@eventkv/sync';
import { type Deposit, makeDeposits } from '../../src/subject.js';

const DATABASE = 'bench';
/** The adapter's object store (packages/indexeddb/src/schema.ts). */
const STORE = 'eventkv';

/** A remote that is never reached: the replica has been offline all along. */
const offline: SyncRemote = {
  database: DATABASE,
  push: () => Promise.reject(new TypeError('Failed to fetch')),
  pull: () => Promise.reject(new TypeError('Failed to fetch')),
};

export interface Layout {
  /** The IndexedDB database of the replica. */
  readonly name: string;
  readonly streams: number;
  /** Appends of one event per stream. */
  readonly perStream: number;
}

export interface SeedResult {
  readonly seconds: number;
  /** What `navigator.storage.estimate()` says the origin uses afterwards. */
  readonly usageBytes: number | undefined;
}

const account = (s: number) => ({ type: 'Account', id: `acc-${s}` });

/**
 * Fills a new replica through the app's API: `perStream` rounds of one append of one event
 * to each stream in turn (as commands made offline leave them), each with its expected
 * version. Nothing is synced: every event stays pending.
 */
export const seed = async (layout: Layout): Promise<SeedResult> => {
  const started = performance.now();
  const kv = createIndexedDbKv({ name: layout.name, durability: 'relaxed' });
  const store = createSyncedStore<Deposit>({ kv, remote: offline });
  const [event] = makeDeposits(1);
  for (let round = 0; round < layout.perStream; round++) {
    for (let s = 0; s < layout.streams; s++) {
      await store
        .stream(account(s))
        .append(event as Deposit, { expectedVersion: round === 0 ? 'no-stream' : round });
    }
  }
  const status = await store.sync.status();
  const expected = layout.streams * layout.perStream;
  if (status.pending !== expected) {
    throw new Error(`seeded ${status.pending} pending events, expected ${expected}`);
  }
  await kv.close?.();
  const estimate = await navigator.storage?.estimate?.();
  return { seconds: (performance.now() - started) / 1000, usageBytes: estimate?.usage };
};

/** Milliseconds: each step from the previous one, and from the page's start. */
export interface LoadTimings {
  readonly status: number;
  readonly pendingStreams: number;
  readonly read: number;
  /** From creating the store (or opening the database) to having all three. */
  readonly total: number;
  /** From the page's navigation start to having all three. */
  readonly sinceNavigation: number;
}

/**
 * A fresh page's first screen: creates the synced store over the existing database, then
 * `status()`, `pendingStreams()` and the full read of the stream pending longest.
 */
export const loadWithEventkv = async (layout: Layout): Promise<LoadTimings> => {
  const t0 = performance.now();
  const kv = createIndexedDbKv({ name: layout.name });
  const store = createSyncedStore<Deposit>({ kv, remote: offline });
  const status = await store.sync.status();
  const t1 = performance.now();
  const streams = await store.sync.pendingStreams();
  const t2 = performance.now();
  const first = streams[0];
  const events = first ? await store.stream(first.ref).read() : [];
  const t3 = performance.now();
  const expected = layout.streams * layout.perStream;
  if (status.pending !== expected || status.oldestPendingAt === undefined) {
    throw new Error(`status says ${status.pending} pending, expected ${expected}`);
  }
  if (streams.length !== layout.streams || first?.pending !== layout.perStream) {
    throw new Error(`pendingStreams listed ${streams.length} streams, expected ${layout.streams}`);
  }
  if (events.length !== layout.perStream || events.some((e) => e.confirmed)) {
    throw new Error(`read ${events.length} events, expected ${layout.perStream} pending`);
  }
  await kv.close?.();
  return {
    status: t1 - t0,
    pendingStreams: t2 - t1,
    read: t3 - t2,
    total: t3 - t0,
    sinceNavigation: t3,
  };
};

const request = <T>(req: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

const open = (name: string): Promise<IDBDatabase> =>
  new Promise((resolve, reject) => {
    const req = indexedDB.open(name);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onupgradeneeded = () => reject(new Error(`database ${name} does not exist`));
  });

/** `#sync/...` keys as packages/sync/src/keys.ts builds them. */
const streamPart = (ref: StreamId) =>
  [ref.database, ref.type, ref.id].map((p) => encodeURIComponent(p)).join('/');
const prefixRange = (prefix: string) => IDBKeyRange.bound(prefix, `${prefix}\uffff`);

interface StateRecord {
  readonly ref: StreamId;
  readonly pending?: number;
  readonly since?: number;
}

/**
 * The floor: the least IndexedDB work that gives the same answers from the same records.
 * Opens the database (no upgrade) and, in one readonly transaction, reads the meta and
 * status records, every stream state with one `getAll`, and then, from the states, the
 * outbox entries of the stream pending longest with one `getAll`. No store, no checks of
 * versions or consistency, no second look at the states.
 */
export const loadFloor = async (layout: Layout): Promise<LoadTimings> => {
  const t0 = performance.now();
  const db = await open(layout.name);
  const tx = db.transaction(STORE, 'readonly');
  const store = tx.objectStore(STORE);
  const [meta, , states] = await Promise.all([
    request(store.get('#sync/meta')),
    request(store.get('#sync/status')),
    request(store.getAll(prefixRange('#sync/s/')) as IDBRequest<StateRecord[]>),
  ]);
  const t1 = performance.now();
  let pending = 0;
  let oldest: StateRecord | undefined;
  for (const state of states) {
    pending += state.pending ?? 0;
    if (state.since !== undefined && (oldest?.since === undefined || state.since < oldest.since)) {
      oldest = state;
    }
  }
  const t2 = performance.now();
  const entries = oldest
    ? ((await request(store.getAll(prefixRange(`#sync/o/${streamPart(oldest.ref)}/`)))) as {
        events: unknown[];
      }[])
    : [];
  const t3 = performance.now();
  db.close();
  const events = entries.reduce((sum, entry) => sum + entry.events.length, 0);
  const expected = layout.streams * layout.perStream;
  if (!meta || pending !== expected || states.length !== layout.streams) {
    throw new Error(`the floor read ${pending} pending events in ${states.length} states`);
  }
  if (events !== layout.perStream) {
    throw new Error(`the floor read ${events} events of one stream, expected ${layout.perStream}`);
  }
  return {
    status: t1 - t0,
    pendingStreams: t2 - t1,
    read: t3 - t2,
    total: t3 - t0,
    sinceNavigation: t3,
  };
};

declare global {
  var firstLoadSeed: (layout: Layout) => Promise<SeedResult>;
  var firstLoadEventkv: (layout: Layout) => Promise<LoadTimings>;
  var firstLoadFloor: (layout: Layout) => Promise<LoadTimings>;
}

globalThis.firstLoadSeed = seed;
globalThis.firstLoadEventkv = loadWithEventkv;
globalThis.firstLoadFloor = loadFloor;
