import { KvConditionError, type KvPut, type KvScan, resolveRange } from '@eventkv/core/kv';
import type { SmallValue } from './small-records.js';
import { sqlRangeScan } from './sql-range.js';
import { fitsWriteView, writeThroughView } from './write-view.js';

/**
 * The index keys of records, in a table of the object's own SQLite database
 * (`ctx.storage.sql`), beside the records themselves (`ctx.storage.kv`, which on a
 * SQLite-backed object lives in the same database, so one `transactionSync` covers both).
 *
 *   eventkv_index (ikey TEXT PRIMARY KEY, key TEXT NOT NULL) WITHOUT ROWID
 *
 * One row per index key, naming the record's key. The primary key is what makes an index
 * key unique: a write that gives one to a second record fails on it, inside the write's
 * transaction, so nothing of that write applies. `WITHOUT ROWID`: the rows are stored in
 * the primary key's own B-tree, in index-key order, which is the order scans read them in.
 */
export const INDEX_TABLE = 'eventkv_index';

/** Creates the table if it is not there yet (cheap when it is). */
export const CREATE_INDEX_TABLE = `CREATE TABLE IF NOT EXISTS ${INDEX_TABLE} (ikey TEXT PRIMARY KEY, key TEXT NOT NULL) WITHOUT ROWID`;

// Bound parameters per statement: at most 100 on Cloudflare's SQLite (D1, Durable Objects).
const MAX_PARAMETERS = 100;

/** One record's index keys: `VALUES (?2, ?1), (?3, ?1), ...` (the record's key once, as ?1). */
const insertValues: string[] = [];
const insertOne = (count: number): string => {
  let sql = insertValues[count];
  if (sql === undefined) {
    const rows = Array.from({ length: count }, (_, i) => `(?${i + 2}, ?1)`);
    sql = `INSERT INTO ${INDEX_TABLE} (ikey, key) VALUES ${rows.join(', ')}`;
    insertValues[count] = sql;
  }
  return sql;
};

/**
 * Several records' index keys in one statement: ?1 is a JSON array of
 * `[key, indexKey, indexKey, ...]`, one per record, unpacked by SQLite's `json_each`.
 */
const INSERT_MANY = `INSERT INTO ${INDEX_TABLE} (ikey, key) SELECT i.value, r.value ->> 0 FROM json_each(?1) AS r, json_each(r.value) AS i WHERE i.key > 0`;

/**
 * Keeps one statement's JSON well under the platform's 2 MB limit on a string: a larger
 * write (thousands of events with long names) goes in several statements.
 */
const MAX_JSON_CHARS = 500_000;

/** Which of the given index keys are already held (after a failed insert, to name them). */
const HELD = `SELECT ikey FROM ${INDEX_TABLE} WHERE ikey IN (SELECT value FROM json_each(?1))`;

const scanRows = sqlRangeScan<[string, string]>(INDEX_TABLE, 'ikey, key', 'ikey');

const CONSTRAINT = /SQLITE_CONSTRAINT|UNIQUE constraint failed/;

/**
 * Inserts the index keys of `puts` (call inside the write's `transactionSync`). A key
 * already held, by another record or twice in this write, fails with `KvConditionError`
 * naming it; the caller's transaction then rolls back. With `small` rows (small records
 * to upsert, `small-records.ts`), a write of one record writes them in the same statement
 * when they fit (`write-view.ts`); returns whether it did.
 */
export const insertIndexKeys = (
  sql: SqlStorage,
  puts: readonly KvPut[],
  small: readonly (readonly [string, SmallValue])[] = [],
): boolean => {
  let only: KvPut | undefined;
  let records = 0;
  for (const put of puts) {
    if (put.indexKeys === undefined || put.indexKeys.length === 0) continue;
    only = put;
    records++;
  }
  if (only === undefined) return false;
  // Index keys this write inserted with statements that succeeded (before a larger write's
  // next statement fails): those are not clashes.
  let inserted = 0;
  try {
    const keys = only.indexKeys as readonly string[];
    if (records === 1 && small.length > 0 && fitsWriteView(keys.length, small.length)) {
      writeThroughView(sql, only.key, keys, small);
      return true;
    }
    if (records === 1 && keys.length < MAX_PARAMETERS) {
      sql.exec(insertOne(keys.length), only.key, ...keys);
      return false;
    }
    let json = '';
    let count = 0;
    for (const put of puts) {
      if (put.indexKeys === undefined || put.indexKeys.length === 0) continue;
      const record = JSON.stringify([put.key, ...put.indexKeys]);
      if (json.length > 0 && json.length + record.length > MAX_JSON_CHARS) {
        sql.exec(INSERT_MANY, `[${json}]`);
        inserted += count;
        json = '';
        count = 0;
      }
      json = json.length === 0 ? record : `${json},${record}`;
      count += put.indexKeys.length;
    }
    sql.exec(INSERT_MANY, `[${json}]`);
    return false;
  } catch (error) {
    // (The small records' upsert cannot fail on a constraint: a clash is an index key's.)
    if (!CONSTRAINT.test(error instanceof Error ? error.message : String(error))) throw error;
    throw new KvConditionError(clashing(sql, puts, inserted));
  }
};

/**
 * The index keys of `puts` that cannot be given to them: held by a record already (not
 * counting the first `inserted`, which this write's earlier statements inserted), or
 * declared twice in this write. (The statement that failed left nothing behind: SQLite
 * undoes a statement that fails.) All of them when neither can be found.
 */
const clashing = (sql: SqlStorage, puts: readonly KvPut[], inserted: number): string[] => {
  const all = puts.flatMap((put) => put.indexKeys ?? []);
  const named = new Set<string>();
  const seen = new Set<string>();
  for (const key of all) {
    if (seen.has(key)) named.add(key);
    seen.add(key);
  }
  const mine = new Set(all.slice(0, inserted));
  const rest = all.slice(inserted);
  // In statements of bounded size, as the inserts were.
  for (let from = 0; from < rest.length; ) {
    let chars = 0;
    let to = from;
    while (to < rest.length && (to === from || chars < MAX_JSON_CHARS)) {
      chars += (rest[to] as string).length + 3;
      to++;
    }
    for (const [key] of sql.exec(HELD, JSON.stringify(rest.slice(from, to))).raw()) {
      if (!mine.has(key as string)) named.add(key as string);
    }
    from = to;
  }
  return named.size > 0 ? [...named] : all;
};

/** The `[indexKey, key]` rows of a scan `by: 'index'`, in index-key order (or reversed). */
export const scanIndexKeys = (sql: SqlStorage, scan: KvScan): [string, string][] => {
  const { start, end, empty } = resolveRange(scan);
  if (empty || (scan.limit !== undefined && scan.limit <= 0)) return [];
  return scanRows(sql, start, end, scan.reverse === true, scan.limit ?? -1);
};
