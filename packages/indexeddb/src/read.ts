import {
  type KvEntry,
  type KvRead,
  type KvScan,
  type KvValue,
  resolveRange,
} from '@eventkv/core/kv';
import { INDEX, type StoredRecord } from './schema.js';
import { abort, Own } from './transact.js';

/** IndexedDB 3.0's `getAllRecords` (Chromium 141+): keys, primary keys and values at once. */
interface IDBRecordLike {
  readonly key: string;
  readonly primaryKey: string;
  readonly value: StoredRecord;
}
type RecordSource = (IDBObjectStore | IDBIndex) & {
  getAllRecords?(options: {
    query: IDBKeyRange;
    count?: number;
    direction: IDBCursorDirection;
  }): IDBRequest<IDBRecordLike[]>;
};

/** The value a read returns: the stored record unwrapped. */
export const unwrapValue = (stored: StoredRecord | undefined): KvValue | undefined =>
  stored === undefined ? undefined : stored.v;

/**
 * The index key each record of a forward index scan was found under, when only the
 * records are known (IndexedDB without `getAllRecords`): a multi-entry index returns a
 * record once per index key in range, in index-key order, so each one's index key is the
 * least of its own in range that is greater than the one before.
 */
const indexKeysInOrder = (
  records: readonly StoredRecord[],
  start: string,
  end: string | undefined,
): string[] => {
  let previous = '';
  return records.map((record) => {
    let found: string | undefined;
    for (const key of record.x ?? []) {
      if (key < start || (end !== undefined && key >= end) || key <= previous) continue;
      if (found === undefined || key < found) found = key;
    }
    previous = found as string;
    return previous;
  });
};

/**
 * Reads one range of `store` (by key) or of its index (`by: 'index'`): values alone with
 * `getAll` when the caller needs no keys (`keys: false`, but for a reverse range with a limit); with
 * `getAllRecords` where IndexedDB has it (one request, either direction); else keys and
 * values in two bulk requests (a reverse scan reverses them, unless it has a limit: it
 * then walks a `prev` cursor, reading only what it returns).
 */
const scan = (store: IDBObjectStore, keyRange: typeof IDBKeyRange, range: KvScan): Pending => {
  const pending: Pending = {};
  const done = (entries: KvEntry[]) => {
    pending.entries = entries;
    pending.waiting?.(entries);
  };
  const { start = '', end, empty } = resolveRange(range);
  const { limit, reverse = false } = range;
  if (empty || (limit !== undefined && limit <= 0)) {
    done([]);
    return pending;
  }
  const byIndex = range.by === 'index';
  const source: RecordSource = byIndex ? store.index(INDEX) : store;
  // Every key is a string and '' the least of them, so `start` '' bounds nothing.
  const query =
    end === undefined ? keyRange.lowerBound(start) : keyRange.bound(start, end, false, true);
  if (range.keys === false && !byIndex && !(reverse && limit !== undefined)) {
    // The caller needs no keys (a stream's events): one `getAll`, the request the raw
    // floor makes; in Chromium it answers a 10-event range about twice as fast as
    // `getAllRecords` or `getAll` + `getAllKeys`, which make a key or a record per entry.
    const values = source.getAll(query, limit);
    values.onsuccess = () => {
      const stored = values.result as StoredRecord[];
      const entries: KvEntry[] = new Array(stored.length);
      for (let i = 0; i < stored.length; i++) {
        entries[i] = { key: '', value: (stored[i] as StoredRecord).v };
      }
      if (reverse) entries.reverse();
      done(entries);
    };
    return pending;
  }
  if (source.getAllRecords !== undefined) {
    const request = source.getAllRecords({
      query,
      ...(limit === undefined ? {} : { count: limit }),
      direction: reverse ? 'prev' : 'next',
    });
    request.onsuccess = () => {
      const records = request.result;
      const entries: KvEntry[] = new Array(records.length);
      for (let i = 0; i < records.length; i++) {
        const { key, primaryKey, value } = records[i] as IDBRecordLike;
        entries[i] = byIndex
          ? { key: primaryKey, value: value.v, indexKey: key }
          : { key, value: value.v };
      }
      done(entries);
    };
    return pending;
  }
  if (reverse && limit !== undefined) {
    const entries: KvEntry[] = [];
    const cursor = source.openCursor(query, 'prev');
    cursor.onsuccess = () => {
      const at = cursor.result;
      if (at === null || entries.length >= limit) return done(entries);
      const value = (at.value as StoredRecord).v;
      entries.push(
        byIndex
          ? { key: at.primaryKey as string, value, indexKey: at.key as string }
          : { key: at.key as string, value },
      );
      if (entries.length >= limit) return done(entries);
      at.continue();
    };
    return pending;
  }
  const keys = source.getAllKeys(query, limit);
  const values = source.getAll(query, limit);
  values.onsuccess = () => {
    const found = keys.result as string[];
    const stored = values.result as StoredRecord[];
    const indexKeys = byIndex ? indexKeysInOrder(stored, start, end) : undefined;
    const entries: KvEntry[] = new Array(found.length);
    for (let i = 0; i < found.length; i++) {
      const value = (stored[i] as StoredRecord).v;
      entries[i] = indexKeys
        ? { key: found[i] as string, value, indexKey: indexKeys[i] as string }
        : { key: found[i] as string, value };
    }
    if (reverse) entries.reverse();
    done(entries);
  };
  return pending;
};

/** A range read under way: its entries once read, and who waits for them. */
interface Pending {
  entries?: KvEntry[];
  waiting?: (entries: KvEntry[]) => void;
}

const sameScan = (a: KvScan, b: KvScan): boolean =>
  a.prefix === b.prefix &&
  a.start === b.start &&
  a.end === b.end &&
  a.limit === b.limit &&
  a.keys === b.keys &&
  (a.reverse ?? false) === (b.reverse ?? false) &&
  (a.by ?? 'key') === (b.by ?? 'key');

/** Largest range (in entries) read ahead: bounds what a wrong guess costs. */
const PREFETCH_ENTRIES = 256;
/** Point-key lists remembered; past this the memory starts over (it is only a hint). */
const PREFETCH_KEYS = 2048;

/**
 * The range each list of point keys planned last, and whether it planned the same one the
 * time before (`stable`). A stable range is read ahead with the point reads (`read`): a
 * stream read again while it did not change, a view polled. A range that moves on every
 * read (a subscription's next page, a stream read between its own appends) is never read
 * ahead, so a wrong guess costs at most one range read of `PREFETCH_ENTRIES`, after which
 * the range must be planned twice alike again.
 */
export type Prefetch = Map<string, { readonly range: KvScan; readonly stable: boolean }>;

/**
 * Every read, in one readonly transaction: point reads of `keys`, then the range `then`
 * derives from their values (none when it returns undefined), so a stream's head and the
 * events it covers are read together. Requests are queued on the raw transaction and
 * answered by their callbacks: no promise per request, one per read.
 *
 * The range depends on the values, so it would cost a second round trip to the backend
 * after the point reads. When the same point keys planned the same small range the last
 * two times, that range is queued right behind the point reads (`Prefetch`): if `then`
 * plans it again, its entries, read in the same transaction and so consistent with the
 * values, are the answer; otherwise they are dropped and the planned range is read.
 * `then` runs once, on the values as read.
 */
export const read =
  (
    keys: readonly string[],
    then: ((values: (KvValue | undefined)[]) => KvScan | undefined) | undefined,
    keyRange: typeof IDBKeyRange,
    prefetch: Prefetch,
  ) =>
  (tx: IDBTransaction, store: IDBObjectStore): Promise<KvRead> =>
    new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        abort(tx);
        reject(error);
      };
      tx.onabort = () => fail(tx.error ?? new DOMException('The read was aborted.', 'AbortError'));
      const memo = keys.length === 1 ? (keys[0] as string) : keys.join('\n');
      // Only reads that plan a range from point reads take part (not a version read).
      const planning = then !== undefined && keys.length > 0;
      const last = planning ? prefetch.get(memo) : undefined;
      let guessed: Pending | undefined;
      /** Remembers what `then` planned; nothing planned, or too much to read ahead, is forgotten. */
      const remember = (range: KvScan | undefined, entries: number) => {
        if (range === undefined || entries > PREFETCH_ENTRIES) {
          if (last !== undefined) prefetch.delete(memo);
          return;
        }
        const stable = last !== undefined && sameScan(range, last.range);
        if (stable && last?.stable) return;
        if (last === undefined && prefetch.size >= PREFETCH_KEYS) prefetch.clear();
        prefetch.set(memo, { range, stable });
      };
      const planned = (values: (KvValue | undefined)[]) => {
        let range: KvScan | undefined;
        try {
          range = then?.(values);
        } catch (error) {
          return fail(new Own(error));
        }
        if (range === undefined) {
          if (planning) remember(undefined, 0);
          settled = true;
          return resolve({ values, entries: [] });
        }
        const planned = range;
        try {
          const pending =
            guessed !== undefined && sameScan(planned, (last as { range: KvScan }).range)
              ? guessed
              : scan(store, keyRange, planned);
          const finish = (entries: KvEntry[]) => {
            settled = true;
            if (planning) remember(planned, entries.length);
            resolve({ values, entries });
          };
          if (pending.entries !== undefined) finish(pending.entries);
          else pending.waiting = finish;
        } catch (error) {
          fail(error);
        }
      };
      try {
        if (keys.length === 0) return planned([]);
        const requests = keys.map((key) => store.get(key));
        if (last?.stable) guessed = scan(store, keyRange, last.range);
        // Requests complete in order: when the last point read is done, all of them are.
        (requests[requests.length - 1] as IDBRequest).onsuccess = () => {
          const values = new Array<KvValue | undefined>(requests.length);
          for (let i = 0; i < requests.length; i++) {
            values[i] = unwrapValue((requests[i] as IDBRequest<StoredRecord | undefined>).result);
          }
          planned(values);
        };
      } catch (error) {
        fail(error);
      }
    });
