/**
 * Key layout. Every key is ASCII and order-preserving where order matters:
 *
 *   {db}/h/{type}/{id}                       stream head: version, last timestamp
 *   {db}/e/{type}/{id}/{version}             event, with the index keys below
 *   {db}/s/{type}/{id}/{version}             snapshot
 *   {db}/l/{type}/{id}                       session lease
 *   {db}/m/log                               global log head (last position)
 *
 * and the index keys an event record declares (each names that one event, see
 * `kv/types.ts`), which an adapter keeps in its own indexes:
 *
 *   {db}/i/{type}/{id}/{messageId}           its message id (so a retry is found)
 *   {db}/g/{position}                        its global log position
 *   {db}/x/{index}/{value}/{time}/{position} its secondary index entries
 *
 * Names are encoded with `encodeURIComponent`: ASCII-only, injective, and never contains
 * '/', so no name can reach into another stream's keys and one stream's prefix never
 * matches another's. Numbers are zero-padded to 16 digits (enough for every safe
 * integer), so version 10 sorts after version 9 in every backend.
 */

import type { StreamId } from './errors.js';
import { type Guard, optimisticGuard } from './guard.js';
import { prefixEnd } from './kv/range.js';

const WIDTH = 16;

export const encodeNumber = (n: number): string => n.toString().padStart(WIDTH, '0');

// Characters encodeURIComponent leaves as they are: such names skip it (same result,
// no new string), which matters on the append path.
const UNRESERVED = /^[A-Za-z0-9_.!~*'()-]*$/;

/** Assumes a name already validated as well-formed UTF-16 (see `validate.ts`). */
export const encodeName = (name: string): string =>
  UNRESERVED.test(name) ? name : encodeURIComponent(name);

export const decodeNumber = (text: string): number | undefined => {
  if (text.length !== WIDTH || !/^\d+$/.test(text)) return undefined;
  return Number(text);
};

export type IndexName = 'eventType' | 'aggregateType' | 'user' | 'correlation';
export const INDEX_NAMES: readonly IndexName[] = [
  'eventType',
  'aggregateType',
  'user',
  'correlation',
];

/** All keys of one stream, precomputed once per handle. */
export interface StreamKeys {
  readonly head: string;
  readonly lease: string;
  readonly eventPrefix: string;
  readonly snapshotPrefix: string;
  readonly idempotencyPrefix: string;
  event(version: number): string;
  snapshot(version: number): string;
  idempotency(messageId: string): string;
}

// A class, not an object of closures: a slot's keys then cost about 250 bytes instead of
// 640 (its methods live on the prototype), and the slot cache can hold 4x more streams.
class KeysOfStream implements StreamKeys {
  readonly head: string;
  readonly lease: string;
  readonly eventPrefix: string;
  readonly snapshotPrefix: string;
  readonly idempotencyPrefix: string;
  constructor(db: string, tail: string) {
    this.head = `${db}/h/${tail}`;
    this.lease = `${db}/l/${tail}`;
    this.eventPrefix = `${db}/e/${tail}/`;
    this.snapshotPrefix = `${db}/s/${tail}/`;
    this.idempotencyPrefix = `${db}/i/${tail}/`;
  }
  event(version: number): string {
    return this.eventPrefix + encodeNumber(version);
  }
  snapshot(version: number): string {
    return this.snapshotPrefix + encodeNumber(version);
  }
  idempotency(messageId: string): string {
    return this.idempotencyPrefix + encodeName(messageId);
  }
}

export const streamKeys = (database: string, type: string, id: string): StreamKeys =>
  new KeysOfStream(encodeName(database), `${encodeName(type)}/${encodeName(id)}`);

/** Keys shared by a whole database (partition). */
export interface DatabaseKeys {
  readonly logHead: string;
  readonly logPrefix: string;
  /** A log entry's key; `position` as a number, or as `encodeNumber` already wrote it. */
  log(position: number | string): string;
  indexPrefix(index: IndexName, value: string): string;
  /**
   * The `{time}/{position}` tail of an event's index entries, from `encodeNumber`'s
   * strings (an append encodes its time once and each position once): each index key
   * is `indexPrefix(index, value) + indexSuffix(time, position)`.
   */
  indexSuffix(time: string, position: string): string;
}

export const databaseKeys = (database: string): DatabaseKeys => {
  const db = encodeName(database);
  const logPrefix = `${db}/g/`;
  const indexPrefix = (index: IndexName, value: string) => `${db}/x/${index}/${encodeName(value)}/`;
  return {
    logHead: `${db}/m/log`,
    logPrefix,
    log: (position) =>
      logPrefix + (typeof position === 'string' ? position : encodeNumber(position)),
    indexPrefix,
    indexSuffix: (time, position) => `${time}/${position}`,
  };
};

/**
 * The append state: the records every append reads and rewrites, stream heads
 * `{db}/h/...`, session leases `{db}/l/...` and the log head `{db}/m/log` (every key
 * `{db}/h/`, `/l/` or `/m/` of a database segment). They are few, small and plain (objects of
 * numbers and strings), so an adapter may keep them apart from the other records, read all
 * of an append's with one call (the Durable Object adapter keeps them in an SQL table).
 * The rule is on keys alone, and a database segment never holds `/`, `#` or `$` (names are
 * `encodeName`d), so keys other owners put beside core's (`#sync/...`) are never taken.
 */
const APPEND_STATE_KEY = /^[^/#$]+\/[hlm]\//;

/** Whether `key` holds append state (see above). */
export const isAppendStateKey = (key: string): boolean => APPEND_STATE_KEY.test(key);

/**
 * Which keys of the range [start, end) may hold append state: `'none'` (an event range, a
 * snapshot range, another owner's keys), `'all'` (every key of the range is append state:
 * the heads of a database) or `'some'`. Decided by the bounds' common prefix, which every
 * key of the range starts with; an open bound is `'some'`.
 */
export const appendStateIn = (
  start: string | undefined,
  end: string | undefined,
): 'none' | 'all' | 'some' => {
  if (start === undefined || end === undefined) return 'some';
  let common = 0;
  const max = Math.min(start.length, end.length);
  while (common < max && start.charCodeAt(common) === end.charCodeAt(common)) common++;
  const prefix = start.slice(0, common);
  const slash = prefix.indexOf('/');
  if (slash < 0) return 'some';
  // The first segment is known: one that is not a database segment holds no append state.
  if (slash === 0 || /[#$]/.test(prefix.slice(0, slash))) return 'none';
  if (prefix.length === slash + 1) return 'some';
  const kind = prefix.charAt(slash + 1);
  if (kind !== 'h' && kind !== 'l' && kind !== 'm') return 'none';
  if (prefix.length > slash + 2) return prefix.charAt(slash + 2) === '/' ? 'all' : 'none';
  // A prefix scan of `{db}/h/` ends at `{db}/h0`: the bounds part at the slash.
  const kindPrefix = `${prefix}/`;
  return start.startsWith(kindPrefix) && end <= prefixEnd(kindPrefix) ? 'all' : 'some';
};

/** A validated stream reference with its keys, as `stream()` and queries use them. */
export interface StreamSlot {
  readonly stream: StreamId;
  readonly keys: StreamKeys;
  readonly dbKeys: DatabaseKeys;
  /** What an append reads first: the head and the lease, then the log head if kept. */
  readonly appendReads: readonly string[];
  readonly appendReadsWithLog: readonly string[];
  /** The guard of a session-less handle (it holds no state). */
  readonly optimistic: Guard;
}

export interface SlotCache {
  /** The slot of a stream whose names were validated before, if any. */
  cached(database: unknown, type: unknown, id: unknown): StreamSlot | undefined;
  /** The slot of a stream whose names are valid (`validateName`), cached for the next call. */
  slot(database: string, type: string, id: string): StreamSlot;
}

/**
 * A store's cache of stream slots. Command handlers open a handle per call
 * (`store.stream(ref).append(...)`), which would validate the names and build the same key
 * strings every time; the slots of recently used streams are kept instead, keyed by the
 * names as given. Only validated names are ever cached, so a hit needs no validation.
 * (Names read back from storage, as queries do, are not validated and do not come here.)
 * Bounded: past `limit` streams it starts over, which costs only a rebuild. A slot takes
 * about 0.9 KB, so the default bounds it near 14 MB; it was 4,096, and a store cycling over
 * 10,000 streams then rebuilt (and soon discarded) a slot on every call: `version()` ran
 * about 3x slower there than with every slot cached (bench W6b).
 */
export const createSlotCache = (limit = 16_384): SlotCache => {
  let count = 0;
  let slots = new Map<string, Map<string, Map<string, StreamSlot>>>();
  const databases = new Map<string, DatabaseKeys>();
  const cached = (database: unknown, type: unknown, id: unknown): StreamSlot | undefined =>
    slots
      .get(database as string)
      ?.get(type as string)
      ?.get(id as string);
  return {
    cached,
    slot(database, type, id) {
      const hit = cached(database, type, id);
      if (hit) return hit;
      if (count >= limit) {
        slots = new Map();
        databases.clear();
        count = 0;
      }
      let dbKeys = databases.get(database);
      if (!dbKeys) {
        dbKeys = databaseKeys(database);
        databases.set(database, dbKeys);
      }
      const stream = Object.freeze({ database, type, id });
      const keys = streamKeys(database, type, id);
      const slot: StreamSlot = {
        stream,
        keys,
        dbKeys,
        appendReads: [keys.head, keys.lease],
        appendReadsWithLog: [keys.head, keys.lease, dbKeys.logHead],
        optimistic: optimisticGuard(stream),
      };
      let byType = slots.get(database);
      if (!byType) {
        byType = new Map();
        slots.set(database, byType);
      }
      let byId = byType.get(type);
      if (!byId) {
        byId = new Map();
        byType.set(type, byId);
      }
      byId.set(id, slot);
      count++;
      return slot;
    },
  };
};
