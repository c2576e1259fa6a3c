/**
 * The name of an object the runtime does not tell its name. workerd gives `ctx.id.name`
 * only for names up to 1024 bytes, and a stream object's name (`streamObjectName`: the
 * database, type and id, percent-encoded) can reach about 7 KB. Such an object takes its
 * name on its first call, once the id of that name proves to be its own id, and keeps it
 * in a table of its own, so that its alarm (which comes with no call) still knows which
 * stream it delivers to the feed.
 */

/** The table an object whose name is too long keeps it in (one row). */
const TABLE = 'eventkv_object_name';

/** The name this object recorded (`recordName`), if it did. */
export const recordedName = (sql: SqlStorage): string | undefined => {
  const [table] = sql
    .exec(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`, TABLE)
    .toArray();
  if (table === undefined) return undefined;
  const [row] = sql.exec<{ name: string }>(`SELECT name FROM ${TABLE}`).toArray();
  return row?.name;
};

/** Records the object's name (done once, on the call that proved it). */
export const recordName = (sql: SqlStorage, name: string): void => {
  sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (name TEXT NOT NULL)`);
  sql.exec(`DELETE FROM ${TABLE}`);
  sql.exec(`INSERT INTO ${TABLE} (name) VALUES (?)`, name);
};
