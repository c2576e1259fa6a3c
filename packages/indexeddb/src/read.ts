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
 * Reads one range of `store` (by key) or of its index (`by: 'index'`): with
 * `getAllRecords` where IndexedDB has it (one request, either direction); else keys and
 * values in two bulk requests (a reverse scan reverses them, unless it has a limit: it
 * then walks a `prev` cursor, reading only what it returns).
 */
const scan = (
  store: IDBObjectStore,
  keyRange: typeof IDBKeyRange,
  range: KvScan,
  done: (entries: KvEntry[]) => void,
): void => {
  const { start = '', end, empty } = resolveRange(range);
  const { limit, reverse = false } = range;
  if (empty) {
    done([]);
    return;
  }
  const byIndex = range.by === 'index';
  const source: RecordSource = byIndex ? store.index(INDEX) : store;
  // Every key is a string and '' the least of them, so `start` '' bounds nothing.
  const query =
    end === undefined ? keyRange.lowerBound(start) : keyRange.bound(start, end, false, true);
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
    return;
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
    return;
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
};

/**
 * Every read, in one readonly transaction: point reads of `keys`, then the range `then`
 * derives from their values (none when it returns undefined), so a stream's head and the
 * events it covers are read together. Requests are queued on the raw transaction and
 * answered by their callbacks: no promise per request, one per read.
 */
export const read =
  (
    keys: readonly string[],
    then: (values: (KvValue | undefined)[]) => KvScan | undefined,
    keyRange: typeof IDBKeyRange,
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
      const planned = (values: (KvValue | undefined)[]) => {
        let range: KvScan | undefined;
        try {
          range = then(values);
        } catch (error) {
          return fail(new Own(error));
        }
        if (range === undefined || (range.limit !== undefined && range.limit <= 0)) {
          settled = true;
          return resolve({ values, entries: [] });
        }
        try {
          scan(store, keyRange, range, (entries) => {
            settled = true;
            resolve({ values, entries });
          });
        } catch (error) {
          fail(error);
        }
      };
      try {
        if (keys.length === 0) return planned([]);
        const requests = keys.map((key) => store.get(key));
        // Requests complete in order: when the last one is done, all of them are.
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
