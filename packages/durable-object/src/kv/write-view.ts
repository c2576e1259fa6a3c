import type { SmallValue } from './small-records.js';

/**
 * One statement for the SQL side of a one-record write (an append of one event): its
 * index keys and its small records (the head, the log head) together, where two
 * statements would be needed for two tables, and a storage call costs tens of
 * microseconds whatever it does (README, "Storage layout"). workerd binds parameters to
 * the last statement of a call only, so two `INSERT`s in one call cannot carry both.
 *
 * The rows go into a view whose `INSTEAD OF` triggers route each one: kind 0 to
 * `eventkv_index` (a plain `INSERT`, so a taken index key fails the statement as before,
 * and SQLite undoes the whole statement, triggers included), kind 1 to `eventkv_small`
 * (an upsert).
 */
export const WRITE_VIEW = 'eventkv_write';

export const CREATE_WRITE_VIEW = [
  `CREATE VIEW IF NOT EXISTS ${WRITE_VIEW} (kind, a, b) AS SELECT NULL, NULL, NULL WHERE 0`,
  `CREATE TRIGGER IF NOT EXISTS ${WRITE_VIEW}_index INSTEAD OF INSERT ON ${WRITE_VIEW} WHEN NEW.kind = 0 BEGIN INSERT INTO eventkv_index (ikey, key) VALUES (NEW.a, NEW.b); END`,
  `CREATE TRIGGER IF NOT EXISTS ${WRITE_VIEW}_small INSTEAD OF INSERT ON ${WRITE_VIEW} WHEN NEW.kind = 1 BEGIN INSERT INTO eventkv_small (key, value) VALUES (NEW.a, NEW.b) ON CONFLICT (key) DO UPDATE SET value = excluded.value; END`,
].join('; ');

// Bound parameters per statement: at most 100 on Cloudflare's SQLite.
const MAX_PARAMETERS = 100;

const statements = new Map<string, string>();
/** `VALUES (0, ?2, ?1), ... (1, ?n, ?n+1), ...`: the record's key once, as ?1. */
const statement = (indexKeys: number, small: number): string => {
  const shape = `${indexKeys},${small}`;
  let sql = statements.get(shape);
  if (sql === undefined) {
    const rows = Array.from({ length: indexKeys }, (_, i) => `(0, ?${i + 2}, ?1)`);
    for (let i = 0; i < small; i++) {
      const at = indexKeys + 2 + 2 * i;
      rows.push(`(1, ?${at}, ?${at + 1})`);
    }
    sql = `INSERT INTO ${WRITE_VIEW} (kind, a, b) VALUES ${rows.join(', ')}`;
    statements.set(shape, sql);
  }
  return sql;
};

/** Whether one statement can carry these rows (within the parameter limit). */
export const fitsWriteView = (indexKeys: number, small: number): boolean =>
  1 + indexKeys + 2 * small <= MAX_PARAMETERS;

/**
 * Inserts `indexKeys` of the record `key` and upserts `small` rows, in one statement.
 * Throws what SQLite throws (a taken index key: a constraint failure).
 */
export const writeThroughView = (
  sql: SqlStorage,
  key: string,
  indexKeys: readonly string[],
  small: readonly (readonly [string, SmallValue])[],
): void => {
  const params: unknown[] = [key, ...indexKeys];
  for (const [smallKey, value] of small) params.push(smallKey, value);
  sql.exec(statement(indexKeys.length, small.length), ...params);
};
