import { KvConditionError } from '../errors.js';
import type { KvCheck, KvCommit, KvEntry, KvPut, KvScan } from './types.js';

/**
 * Index keys for a backend that does not keep them (`capabilities.indexes` unset): each
 * index key becomes a plain entry of its own, `$` + the index key, holding the record's
 * key and written with an `absent` check in the record's write, which is what makes it
 * unique. An index scan reads those entries, then the records they name.
 *
 * No key of core's own layout starts with `$` (names are written with
 * `encodeURIComponent`, which escapes it), nor does a sync owner's (`#`), so emulated
 * entries never collide with records.
 */
const MARK = '$';

/** The plain entry that stands for `indexKey`. */
export const emulatedIndexKey = (indexKey: string): string => MARK + indexKey;

/** Whether a commit declares any index key (most commits besides appends do not). */
const declaresIndexKeys = (puts: readonly KvPut[]): boolean => {
  for (const put of puts) if (put.indexKeys !== undefined && put.indexKeys.length > 0) return true;
  return false;
};

/**
 * The commit a plain backend applies for `commit`: each record put without its index
 * keys, followed by one entry per index key that must still be absent. The order is kept
 * (the sequential path of a non-atomic backend writes in it): a record is written before
 * its index entries, so an index entry never names a record that is not there yet.
 */
export const expandIndexKeys = (commit: KvCommit): KvCommit => {
  const puts = commit.puts ?? [];
  if (!declaresIndexKeys(puts)) return commit;
  const checks: KvCheck[] = [...(commit.checks ?? [])];
  const expanded: KvPut[] = [];
  // Index key -> the record of this write that claims it. The `absent` checks are read
  // before anything is written, so two claims in one write would both pass them: the
  // second is the clash a native index reports.
  const claims = new Map<string, string>();
  for (const put of puts) {
    if (put.indexKeys === undefined || put.indexKeys.length === 0) {
      expanded.push(put);
      continue;
    }
    expanded.push({ key: put.key, value: put.value });
    for (const indexKey of put.indexKeys) {
      const holder = claims.get(indexKey);
      if (holder === put.key) continue; // declared twice by one record: one entry
      if (holder !== undefined) throw new KvConditionError([indexKey]);
      claims.set(indexKey, put.key);
      const key = emulatedIndexKey(indexKey);
      checks.push({ key, absent: true });
      expanded.push({ key, value: put.key });
    }
  }
  return commit.deletes === undefined
    ? { checks, puts: expanded }
    : { checks, puts: expanded, deletes: commit.deletes };
};

/** A failed condition as the caller knows it: an emulated entry's key as its index key. */
export const unemulateConditionError = (error: KvConditionError): KvConditionError =>
  error.keys.some((key) => key.startsWith(MARK))
    ? new KvConditionError(
        error.keys.map((key) => (key.startsWith(MARK) ? key.slice(MARK.length) : key)),
      )
    : error;

/** The plain range that holds the emulated entries of an index scan's range. */
export const emulatedIndexRange = (scan: KvScan): KvScan => {
  const range: { -readonly [K in keyof KvScan]: KvScan[K] } = {};
  if (scan.prefix !== undefined) range.prefix = MARK + scan.prefix;
  else range.prefix = MARK;
  if (scan.start !== undefined) range.start = MARK + scan.start;
  if (scan.end !== undefined) range.end = MARK + scan.end;
  if (scan.reverse !== undefined) range.reverse = scan.reverse;
  if (scan.limit !== undefined) range.limit = scan.limit;
  return range;
};

/**
 * Index entries joined with the records they name (`values`, read after them, in the
 * same order). An entry whose record is missing belongs to a write still in progress or
 * rolled back on a non-atomic backend (records are written first and removed last): it
 * is left out, as that write is not acknowledged.
 */
export const joinIndexEntries = (
  entries: readonly KvEntry[],
  values: readonly unknown[],
): KvEntry[] => {
  const out: KvEntry[] = [];
  entries.forEach((entry, i) => {
    const value = values[i];
    if (value === undefined) return;
    out.push({
      key: entry.value as string,
      value,
      indexKey: entry.key.slice(MARK.length),
    });
  });
  return out;
};
