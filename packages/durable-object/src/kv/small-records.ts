import { appendStateIn, isAppendStateKey } from '@eventkv/core/kv';
import { sqlRangeScan } from './sql-range.js';

/**
 * The small records core reads on every append (stream heads, session leases, log heads),
 * in a table of the object's own SQLite database, so that an append reads all of them with
 * one `SELECT` and writes them with one upsert, where `ctx.storage.kv` takes one call per
 * key (a storage call costs tens of microseconds in workerd whatever it does, so the count
 * of calls is what an append costs; see the README's "Storage layout").
 *
 *   eventkv_small (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID
 *
 * Which records: core's append state, those whose key is `{db}/h/...`, `{db}/l/...` or
 * `{db}/m/...` (`isAppendStateKey` and `appendStateIn` of `@eventkv/core/kv`, where the
 * key layout is). The rule is on keys alone, so every key has one place.
 *
 * Values are JSON text: core's records there are plain objects of numbers and strings,
 * which JSON keeps exactly. A value JSON would not give back as it was (a `Date`, a `Map`,
 * `undefined` inside, `-0`, a cycle; only a caller outside core writes one there) is kept
 * in `ctx.storage.kv` as every other record, and its row holds NULL, meaning "the value is
 * the KV entry under the same key". The row decides: a KV entry under a small record's key
 * whose row holds JSON, or that has no row, is stale and never read.
 */
export const SMALL_TABLE = 'eventkv_small';

export const CREATE_SMALL_TABLE = `CREATE TABLE IF NOT EXISTS ${SMALL_TABLE} (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID`;

/** Whether `key` is a small record's (its value lives in the table). */
export const isSmallKey: (key: string) => boolean = isAppendStateKey;

/** A row's value: JSON text, or null for "in `ctx.storage.kv`". */
export type SmallValue = string | null;

const DEPTH = 16;

/** Whether JSON gives `value` back deeply equal and of the same types. */
const jsonExact = (value: unknown, depth: number): boolean => {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= DEPTH) return false;
  if (Array.isArray(value)) {
    if (Object.keys(value).length !== value.length) return false; // holes or extra properties
    for (const item of value) if (!jsonExact(item, depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) {
    if (!jsonExact((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
};

/**
 * The row value of a small record: its JSON, or null when JSON would not keep it (the value
 * then goes to `ctx.storage.kv`), or when its JSON (escapes count up to six bytes a
 * character) might pass `maxBytes` with its key where the KV entry would not.
 */
export const encodeSmall = (key: string, value: unknown, maxBytes: number): SmallValue => {
  if (!jsonExact(value, 0)) return null;
  const json = JSON.stringify(value);
  // UTF-8 takes at most three bytes per UTF-16 code unit.
  return key.length * 3 + json.length * 3 <= maxBytes ? json : null;
};

// Bound parameters per statement: at most 100 on Cloudflare's SQLite.
const MAX_PARAMETERS = 100;

const cached = (make: (count: number) => string) => {
  const made: string[] = [];
  return (count: number): string => {
    let sql = made[count];
    if (sql === undefined) {
      sql = make(count);
      made[count] = sql;
    }
    return sql;
  };
};
const params = (count: number, from = 1) =>
  Array.from({ length: count }, (_, i) => `?${i + from}`).join(', ');

const selectSome = cached(
  (count) => `SELECT key, value FROM ${SMALL_TABLE} WHERE key IN (${params(count)})`,
);
const SELECT_MANY = `SELECT key, value FROM ${SMALL_TABLE} WHERE key IN (SELECT value FROM json_each(?1))`;

const upsertSome = cached((count) => {
  const rows = Array.from({ length: count }, (_, i) => `(?${2 * i + 1}, ?${2 * i + 2})`);
  return `INSERT INTO ${SMALL_TABLE} (key, value) VALUES ${rows.join(', ')} ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
});
/** ?1: a JSON array of `[key, value]` pairs (`value` the row's text, or null). */
const UPSERT_MANY = `INSERT INTO ${SMALL_TABLE} (key, value) SELECT value ->> 0, value ->> 1 FROM json_each(?1) WHERE true ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
/** The same, for the migration: a row already there (a run cut short) is kept. */
export const INSERT_SMALL_PAIRS = `INSERT OR IGNORE INTO ${SMALL_TABLE} (key, value) SELECT value ->> 0, value ->> 1 FROM json_each(?1)`;

const deleteSome = cached((count) => `DELETE FROM ${SMALL_TABLE} WHERE key IN (${params(count)})`);
const DELETE_MANY = `DELETE FROM ${SMALL_TABLE} WHERE key IN (SELECT value FROM json_each(?1))`;

/** The rows of `keys` (small records' keys), in one statement; absent keys have none. */
export const selectSmall = (sql: SqlStorage, keys: readonly string[]): Map<string, SmallValue> => {
  const rows = new Map<string, SmallValue>();
  if (keys.length === 0) return rows;
  const cursor =
    keys.length < MAX_PARAMETERS
      ? sql.exec(selectSome(keys.length), ...keys)
      : sql.exec(SELECT_MANY, JSON.stringify(keys));
  for (const [key, value] of cursor.raw()) rows.set(key as string, value as SmallValue);
  return rows;
};

/** Writes `rows` (key, row value) in one statement: inserted, or replacing what was there. */
export const upsertSmall = (sql: SqlStorage, rows: readonly [string, SmallValue][]): void => {
  if (rows.length === 0) return;
  if (rows.length * 2 <= MAX_PARAMETERS) {
    sql.exec(upsertSome(rows.length), ...rows.flat());
    return;
  }
  sql.exec(UPSERT_MANY, JSON.stringify(rows));
};

export const deleteSmall = (sql: SqlStorage, keys: readonly string[]): void => {
  if (keys.length === 0) return;
  if (keys.length < MAX_PARAMETERS) sql.exec(deleteSome(keys.length), ...keys);
  else sql.exec(DELETE_MANY, JSON.stringify(keys));
};

const scanRows = sqlRangeScan<[string, SmallValue]>(SMALL_TABLE, 'key, value', 'key');

/** The rows in [start, end), in key order (or reversed), at most `limit` (-1: all). */
export const scanSmall = (
  sql: SqlStorage,
  start: string | undefined,
  end: string | undefined,
  reverse: boolean,
  limit: number,
): [string, SmallValue][] => scanRows(sql, start, end, reverse, limit);

const PLACES = { none: 'kv', all: 'small', some: 'both' } as const;

/**
 * Where the keys of [start, end) live: only in `ctx.storage.kv` (`'kv'`: an event range, a
 * snapshot range), only in the table (`'small'`: the heads of a database), or possibly in
 * both (`'both'`); core's `appendStateIn` decides.
 */
export const rangePlace = (
  start: string | undefined,
  end: string | undefined,
): 'kv' | 'small' | 'both' => PLACES[appendStateIn(start, end)];

const encoder = new TextEncoder();
const NON_ASCII = /[\u0080-\uffff]/;

/** Key order as SQLite compares TEXT (UTF-8 bytes), the order both places list keys in. */
export const compareKeys = (a: string, b: string): number => {
  if (!NON_ASCII.test(a) && !NON_ASCII.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  }
  return x.length - y.length;
};
