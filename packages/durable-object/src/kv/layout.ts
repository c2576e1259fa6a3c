import { prefixEnd } from '@eventkv/core/kv';
import { CREATE_INDEX_TABLE, INDEX_TABLE } from './index-table.js';
import { CREATE_SMALL_TABLE, encodeSmall, INSERT_SMALL_PAIRS } from './small-records.js';
import { CREATE_WRITE_VIEW } from './write-view.js';

/**
 * The storage layout of an object, and the migrations from the previous two.
 *
 * Layout 3 (this release): records in `ctx.storage.kv`, except the small ones core reads
 * on every append (`{db}/h/...` stream heads, `{db}/l/...` session leases, `{db}/m/...`
 * the log head), which are rows of the `eventkv_small` table (`small-records.ts`); index
 * keys in the `eventkv_index` table (`index-table.ts`); a row `('layout', '3')` in
 * `eventkv_meta` once the object is in this layout.
 *
 * Layout 2 (the release before) kept the small records in `ctx.storage.kv` with the
 * others. Moving to layout 3: each `{db}/h/`, `{db}/l/` and `{db}/m/` entry becomes a row
 * of `eventkv_small` (its value as JSON; a value JSON would not keep gets a NULL row and
 * stays where it is, see `small-records.ts`), and the moved entry is deleted.
 *
 * Layout 1 (releases before index keys) also kept an event's index keys as KV entries of
 * their own, under exactly the index keys core declares now:
 *
 *   {db}/i/{type}/{id}/{messageId}           -> { version }
 *   {db}/g/{position}                        -> { type, id, version }
 *   {db}/x/{index}/{value}/{time}/{position} -> { type, id, version }
 *
 * Each such entry becomes a row of the index table naming the event it points to,
 * `{db}/e/{type}/{id}/{version}` (its `{db}` segment is the entry's own; an `i` entry names
 * its stream by its own key's segments, the others by the names in their value, encoded
 * as core encodes names), and the entry is deleted; then the small records move as from
 * layout 2. Everything else stays as it is. (An object in layout 2 has no such entries:
 * any written since belong to someone else and stay.)
 *
 * How: the keys are walked one database segment at a time (one `kv.list` with `limit: 1`
 * finds the next one), and the ranges to move of each are moved `chunk` entries per
 * `transactionSync` (rows inserted and entries deleted together). The first chunk is
 * moved when the adapter is created; the rest one chunk per turn of the event loop, so
 * that each chunk is committed (a Durable Object commits its writes when a turn ends) and
 * an object that is reset halfway resumes where it was instead of starting over. Until the
 * marker is written, the adapter's reads and writes wait for it.
 */

export const META_TABLE = 'eventkv_meta';
const LAYOUT = '3';
/** The layout before, which has the index table already. */
const INDEXED = '2';

const CREATE_TABLES = [
  CREATE_INDEX_TABLE,
  CREATE_SMALL_TABLE,
  CREATE_WRITE_VIEW,
  `CREATE TABLE IF NOT EXISTS ${META_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`,
].join('; ');
/** One call at creation: the tables, and the layout marker if the object has one. */
const SETUP = `${CREATE_TABLES}; SELECT value FROM ${META_TABLE} WHERE name = 'layout'`;
const MARK = `INSERT OR REPLACE INTO ${META_TABLE} (name, value) VALUES ('layout', ?1)`;

/** ?1: a JSON array of `[indexKey, key]` pairs. */
const INSERT_PAIRS = `INSERT OR IGNORE INTO ${INDEX_TABLE} (ikey, key) SELECT value ->> 0, value ->> 1 FROM json_each(?1)`;

/**
 * The platform's limit on a row (`DURABLE_OBJECT_MAX_ENTRY_BYTES`, not imported: that
 * module imports this one): a small record whose JSON might pass it stays in the KV.
 */
const ROW_BYTES = 2_000_000;

/** Entries moved per transaction (and per turn of the event loop after the first). */
export const MIGRATION_CHUNK = 2000;

/** A database segment as core writes it: an encoded name (`#` and `$` start other owners' keys). */
const DATABASE = /^[^/#$]+$/;
const POSITION = /^\d{16}$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null;
const isVersion = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const pad = (n: number): string => n.toString().padStart(16, '0');
/** Core's `encodeName`: names of only `[A-Za-z0-9_.!~*'()-]` are kept as they are, which is what `encodeURIComponent` does with them. */
const encode = (name: unknown): string | undefined => {
  if (typeof name !== 'string' || name.length === 0) return undefined;
  try {
    return encodeURIComponent(name);
  } catch {
    // A lone surrogate: not a name core wrote.
    return undefined;
  }
};

/** The event a layout 1 entry points to, or undefined for an entry that is not one. */
export const legacyTarget = (key: string, value: unknown): string | undefined => {
  if (!isObject(value) || !isVersion(value.version)) return undefined;
  const parts = key.split('/');
  const db = parts[0] as string;
  const version = pad(value.version);
  switch (parts[1]) {
    case 'i':
      return parts.length === 5 && parts[4] !== ''
        ? `${db}/e/${parts[2]}/${parts[3]}/${version}`
        : undefined;
    case 'g':
    case 'x': {
      const shape =
        parts[1] === 'g'
          ? parts.length === 3 && POSITION.test(parts[2] as string)
          : parts.length === 6 &&
            POSITION.test(parts[4] as string) &&
            POSITION.test(parts[5] as string);
      const type = encode(value.type);
      const id = encode(value.id);
      return shape && type !== undefined && id !== undefined
        ? `${db}/e/${type}/${id}/${version}`
        : undefined;
    }
    default:
      return undefined;
  }
};

/** Keys per `storage.delete(keys)` call (the platform's limit). */
const DELETE_BATCH = 128;

/** Moves one chunk: inserts its rows with `insert`, deletes `moved` keys from the KV. */
const moveChunk = (
  storage: DurableObjectStorage,
  insert: string,
  rows: readonly unknown[],
  moved: readonly string[],
): Promise<unknown>[] => {
  const deletes: Promise<unknown>[] = [];
  storage.transactionSync(() => {
    storage.sql.exec(insert, JSON.stringify(rows));
    for (let i = 0; i < moved.length; i += DELETE_BATCH) {
      deletes.push(storage.delete(moved.slice(i, i + DELETE_BATCH)));
    }
  });
  return deletes;
};

/**
 * Moves the entries of older layouts into the tables, `chunk` entries per transaction:
 * from layout 1 (`from` undefined: no marker) the index entries, then the small records;
 * from layout 2 the small records. Yields after each transaction the promises of its
 * deletes (they ran inside it: on SQLite-backed storage the asynchronous API's calls run
 * when they are made, in the transaction open at the time, and one call deletes up to 128
 * keys, which is many times faster than `kv.delete` key by key), and returns how many
 * entries it moved. Entries that do not have the shape of layout 1 (another owner's keys)
 * stay where they are.
 */
export function* migrateLegacyEntries(
  storage: DurableObjectStorage,
  chunk: number = MIGRATION_CHUNK,
  from?: string,
): Generator<Promise<unknown>[], number> {
  const { kv, sql } = storage;
  sql.exec(CREATE_TABLES);
  const namespaces = from === INDEXED ? ['h', 'l', 'm'] : ['g', 'i', 'x', 'h', 'l', 'm'];
  let moved = 0;
  let cursor = '';
  for (;;) {
    let first: string | undefined;
    for (const [key] of kv.list({ start: cursor, limit: 1 })) first = key;
    if (first === undefined) return moved;
    const slash = first.indexOf('/');
    if (slash < 0) {
      cursor = `${first}\u0000`;
      continue;
    }
    const db = first.slice(0, slash);
    cursor = prefixEnd(`${db}/`);
    if (!DATABASE.test(db)) continue;
    for (const namespace of namespaces) {
      const small = namespace === 'h' || namespace === 'l' || namespace === 'm';
      const prefix = `${db}/${namespace}/`;
      const end = prefixEnd(prefix);
      let start = prefix;
      for (;;) {
        const rows: [string, string | null][] = [];
        const keys: string[] = [];
        let last: string | undefined;
        let listed = 0;
        for (const [key, value] of kv.list({ start, end, limit: chunk })) {
          listed++;
          last = key;
          if (small) {
            const row = encodeSmall(key, value, ROW_BYTES);
            rows.push([key, row]);
            // A value JSON would not keep stays in the KV, its row saying so.
            if (row !== null) keys.push(key);
          } else {
            const target = legacyTarget(key, value);
            if (target === undefined) continue;
            rows.push([key, target]);
            keys.push(key);
          }
        }
        if (rows.length > 0) {
          const deletes = moveChunk(storage, small ? INSERT_SMALL_PAIRS : INSERT_PAIRS, rows, keys);
          moved += rows.length;
          yield deletes;
        }
        if (listed < chunk || last === undefined) break;
        start = `${last}\u0000`;
      }
    }
  }
}

// Migrations in progress, per storage: a second adapter over the same storage waits for
// the first one's instead of starting its own.
const inProgress = new WeakMap<DurableObjectStorage, Promise<void>>();

const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Brings the object's storage to layout 3: creates the tables, and moves the entries of
 * layout 1 or 2 if there are any. Returns undefined when the storage is ready (it had the
 * marker, or nothing to move), else the promise of the migration, whose first chunk has
 * been moved already. Throws (or rejects with) what the platform throws.
 */
export const prepareStorage = (
  storage: DurableObjectStorage,
  chunk: number = MIGRATION_CHUNK,
): Promise<void> | undefined => {
  const running = inProgress.get(storage);
  if (running) return running;
  const { sql } = storage;
  let from: string | undefined;
  for (const [layout] of sql.exec(SETUP).raw()) from = layout as string;
  if (from === LAYOUT) return undefined;
  const steps = migrateLegacyEntries(storage, chunk, from);
  let step = steps.next();
  if (step.done) {
    sql.exec(MARK, LAYOUT);
    return undefined;
  }
  const rest = (async () => {
    try {
      while (!step.done) {
        // A delete that failed leaves its entries (the rows went in with the same
        // transaction, and are inserted again next time): the migration fails, and runs again.
        await Promise.all(step.value);
        // The chunk is committed when this turn ends.
        await nextTurn();
        step = steps.next();
      }
      sql.exec(MARK, LAYOUT);
    } finally {
      inProgress.delete(storage);
    }
  })();
  inProgress.set(storage, rest);
  return rest;
};
