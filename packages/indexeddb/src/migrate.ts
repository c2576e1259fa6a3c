import { LEGACY_STORE, STORE, type StoredRecord } from './schema.js';

/**
 * The migration of a schema 1 database (one object store, `LEGACY_STORE`, of core's keys
 * and values as they were) into `STORE`, inside the `versionchange` transaction that
 * creates `STORE`: all of it commits with the upgrade or none of it does.
 *
 * Schema 1 kept an event's index keys as pointer entries of their own, under exactly the
 * index keys core declares now:
 *
 *   {db}/i/{type}/{id}/{messageId}           -> { version }
 *   {db}/g/{position}                        -> { type, id, version }
 *   {db}/x/{index}/{value}/{time}/{position} -> { type, id, version }
 *
 * so each pointer entry becomes an index key (`x`) of the event record it points to,
 * `{db}/e/{type}/{id}/{version}` (the `{db}` segment is the pointer's own; names encoded
 * as core encodes them, `encodeURIComponent`), and every other entry moves as it is,
 * wrapped.
 *
 * How, in bounded memory: one pass over the old store in key order, `CHUNK` entries per
 * request. An event's pointer entries are the keys core would have written for it,
 * derived from the event itself (message id, position, time, type, user, correlation);
 * each is looked up in the old store and kept when it exists and points back at that
 * event, so the event is written once, with its index keys. Pointer ranges are skipped in
 * that pass (`{db}/g/`, `{db}/i/`, `{db}/x/`: one jump each) and counted. A range with
 * more entries than were attached this way (a pointer the derivation does not produce, or
 * whose event is missing) is walked entry by entry afterwards: each pointer is added to
 * its event's index keys, or, when that event does not exist, dropped and reported. Only
 * such dangling pointers are dropped; every other entry is kept.
 */

/** Entries per read request (keys and values). */
const CHUNK = 500;

/** A key's database segment: an encoded name (`#` and `$` start other owners' keys). */
const POINTER = /^([^/#$]+)\/([igx])\//;
const EVENT = /^([^/#$]+)\/e\/([^/]+)\/([^/]+)\/(\d{16})$/;

export interface MigrationReport {
  /** Entries moved from the old store (events and every other record). */
  readonly records: number;
  /** Pointer entries turned into index keys. */
  readonly indexKeys: number;
  /** Pointer entries dropped because the event they point to is missing. */
  readonly dropped: readonly string[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null;
const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const pad = (n: number): string => n.toString().padStart(16, '0');
/** Core's `encodeName`: `encodeURIComponent` (names are well-formed, see `validate.ts`). */
const encode = (name: unknown): string | undefined => {
  if (typeof name !== 'string') return undefined;
  try {
    return encodeURIComponent(name);
  } catch {
    return undefined;
  }
};
const prefixEnd = (prefix: string): string =>
  prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

/** The pointer keys schema 1 wrote for the event `value` at `{db}/e/{type}/{id}/...`. */
const pointersOf = (db: string, type: string, id: string, value: unknown): string[] => {
  const out: string[] = [];
  if (!isObject(value) || !isObject(value.metadata)) return out;
  const m = value.metadata;
  const messageId = encode(m.messageId);
  if (messageId !== undefined) out.push(`${db}/i/${type}/${id}/${messageId}`);
  if (!isCount(value.position)) return out;
  const position = pad(value.position);
  out.push(`${db}/g/${position}`);
  if (!isCount(m.timestamp)) return out;
  const suffix = `/${pad(m.timestamp)}/${position}`;
  const indexed: [string, unknown][] = [
    ['eventType', value.type],
    ['aggregateType', m.aggregateType],
    ['user', m.userId],
    ['correlation', m.correlationId],
  ];
  for (const [index, raw] of indexed) {
    const name = encode(raw);
    if (name !== undefined) out.push(`${db}/x/${index}/${name}${suffix}`);
  }
  return out;
};

/** The event key a pointer entry names, or undefined for a malformed one. */
const targetOf = (key: string, value: unknown): string | undefined => {
  const parts = key.split('/');
  const db = parts[0] as string;
  if (!isObject(value) || !isCount(value.version)) return undefined;
  if (parts[1] === 'i') {
    return parts.length === 5 ? `${db}/e/${parts[2]}/${parts[3]}/${pad(value.version)}` : undefined;
  }
  const type = encode(value.type);
  const id = encode(value.id);
  return type === undefined || id === undefined
    ? undefined
    : `${db}/e/${type}/${id}/${pad(value.version)}`;
};

/** The pointer range (`{db}/g/`, `{db}/i/`, `{db}/x/`) a pointer key lies in. */
const rangeOf = (pointer: string): string => pointer.slice(0, pointer.indexOf('/') + 3);

/**
 * Runs the migration with requests on `tx` (the upgrade's `versionchange` transaction),
 * then deletes the old store and calls `done`. A failure calls `fail`, which aborts the
 * upgrade. Synchronous exceptions inside request callbacks are routed to `fail` too.
 */
export const migrateLegacy = (
  db: IDBDatabase,
  tx: IDBTransaction,
  keyRange: typeof IDBKeyRange,
  done: (report: MigrationReport) => void,
  fail: (error: unknown) => void,
): void => {
  const from = tx.objectStore(LEGACY_STORE);
  const to = tx.objectStore(STORE);
  const step =
    <A extends unknown[]>(run: (...args: A) => void) =>
    (...args: A) => {
      try {
        run(...args);
      } catch (error) {
        fail(error);
      }
    };
  let records = 0;
  let indexKeys = 0;
  const dropped: string[] = [];
  /** Pointer ranges met: their entry counts, and how many were attached in the first pass. */
  const ranges = new Map<string, { total: IDBRequest<number>; attached: number }>();
  const attached = new Map<string, number>();

  /** Reads up to CHUNK entries of `range`: keys and values, in two requests. */
  const readChunk = (range: IDBKeyRange, then: (keys: string[], values: unknown[]) => void) => {
    const keys = from.getAllKeys(range, CHUNK);
    const values = from.getAll(range, CHUNK);
    values.onsuccess = step(() => then(keys.result as string[], values.result));
  };

  // The first pass: every entry but the pointers, events with the pointers derived from them.
  const firstPass = (lower: IDBKeyRange): void =>
    readChunk(lower, (keys, values) => {
      const events: { key: string; value: unknown; pointers: string[]; found: IDBRequest[] }[] = [];
      let next: IDBKeyRange | undefined;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const pointer = POINTER.exec(key);
        if (pointer) {
          // A pointer range: counted, and skipped in one jump.
          const start = pointer[0];
          const end = prefixEnd(start);
          ranges.set(start, {
            total: from.count(keyRange.bound(start, end, false, true)),
            attached: 0,
          });
          next = keyRange.lowerBound(end);
          break;
        }
        next = keyRange.lowerBound(key, true);
        const value = values[i];
        records++;
        const event = EVENT.exec(key);
        const pointers = event
          ? pointersOf(event[1] as string, event[2] as string, event[3] as string, value)
          : [];
        if (pointers.length === 0) {
          to.put({ v: value } satisfies StoredRecord, key);
          continue;
        }
        events.push({ key, value, pointers, found: pointers.map((p) => from.get(p)) });
      }
      const more = next !== undefined && (keys.length === CHUNK || next.lowerOpen === false);
      const proceed = () => (more ? firstPass(next as IDBKeyRange) : checkRanges());
      const last = events.at(-1)?.found.at(-1);
      if (last === undefined) return proceed();
      // Requests complete in order: when the last lookup is done, all of them are.
      last.onsuccess = step(() => {
        for (const { key, value, pointers, found } of events) {
          const x: string[] = [];
          pointers.forEach((pointer, j) => {
            // Kept when it exists and names this very event (an `i` pointer names its
            // stream by its own key, derived from this event's: only its version is read).
            if (targetOf(pointer, (found[j] as IDBRequest).result) !== key) return;
            x.push(pointer);
            const range = rangeOf(pointer);
            attached.set(range, (attached.get(range) ?? 0) + 1);
          });
          indexKeys += x.length;
          to.put((x.length > 0 ? { v: value, x } : { v: value }) satisfies StoredRecord, key);
        }
        proceed();
      });
    });

  // Pointer ranges whose entries were not all attached: walked entry by entry.
  const checkRanges = (): void => {
    const walk = [...ranges]
      .filter(([range, { total }]) => total.result !== (attached.get(range) ?? 0))
      .map(([range]) => range);
    const nextRange = (): void => {
      const range = walk.shift();
      if (range === undefined) finish();
      else walkPointers(keyRange.bound(range, prefixEnd(range), false, true), range, nextRange);
    };
    nextRange();
  };

  const walkPointers = (bounds: IDBKeyRange, range: string, then: () => void): void =>
    readChunk(bounds, (keys, values) => {
      const byTarget = new Map<string, string[]>();
      keys.forEach((key, i) => {
        const target = targetOf(key, values[i]);
        if (target === undefined) dropped.push(key);
        else byTarget.set(target, [...(byTarget.get(target) ?? []), key]);
      });
      const targets = [...byTarget.keys()];
      const found = targets.map((target) => to.get(target));
      const proceed = () => {
        const last = keys.at(-1);
        if (keys.length < CHUNK || last === undefined) return then();
        walkPointers(keyRange.bound(last, prefixEnd(range), true, true), range, then);
      };
      const lastFound = found.at(-1);
      if (lastFound === undefined) return proceed();
      lastFound.onsuccess = step(() => {
        targets.forEach((target, i) => {
          const pointers = byTarget.get(target) as string[];
          const stored = (found[i] as IDBRequest<StoredRecord | undefined>).result;
          if (stored === undefined) {
            dropped.push(...pointers);
            return;
          }
          const x = [...(stored.x ?? [])];
          const added = pointers.filter((pointer) => !x.includes(pointer));
          if (added.length === 0) return;
          x.push(...added);
          indexKeys += added.length;
          to.put({ v: stored.v, x } satisfies StoredRecord, target);
        });
        proceed();
      });
    });

  const finish = (): void => {
    db.deleteObjectStore(LEGACY_STORE);
    done({ records, indexKeys, dropped });
  };

  try {
    firstPass(keyRange.lowerBound(''));
  } catch (error) {
    fail(error);
  }
};
