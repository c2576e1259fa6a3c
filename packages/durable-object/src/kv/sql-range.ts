/**
 * A range scan over one of the adapter's SQL tables: the rows whose `keyColumn` is in
 * [start, end) (no end: to the last), in key order or reversed, at most `limit` (a
 * negative LIMIT is no limit in SQLite). One rule for the index table and the small
 * records' table; each statement is a fixed text, so SQLite's statement cache serves it.
 */
export const sqlRangeScan = <Row extends unknown[]>(
  table: string,
  columns: string,
  keyColumn: string,
) => {
  const select = `SELECT ${columns} FROM ${table} WHERE ${keyColumn} >= ?1`;
  const both = `${select} AND ${keyColumn} < ?2 ORDER BY ${keyColumn}`;
  const from = `${select} ORDER BY ${keyColumn}`;
  const statements = {
    both: `${both} LIMIT ?3`,
    bothReverse: `${both} DESC LIMIT ?3`,
    from: `${from} LIMIT ?2`,
    fromReverse: `${from} DESC LIMIT ?2`,
  } as const;
  return (
    sql: SqlStorage,
    start: string | undefined,
    end: string | undefined,
    reverse: boolean,
    limit: number,
  ): Row[] => {
    const rows =
      end === undefined
        ? sql.exec(reverse ? statements.fromReverse : statements.from, start ?? '', limit)
        : sql.exec(reverse ? statements.bothReverse : statements.both, start ?? '', end, limit);
    return Array.from(rows.raw()) as Row[];
  };
};
