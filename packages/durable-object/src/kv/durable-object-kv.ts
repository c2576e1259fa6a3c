import { InvalidArgumentError } from '@eventkv/core';
import {
  failedChecks,
  type Kv,
  type KvChangeListener,
  type KvCommit,
  KvConditionError,
  type KvEntry,
  type KvRead,
  type KvScan,
  type KvValue,
  resolveRange,
} from '@eventkv/core/kv';
import { shorten, toKvError, toPutError } from './backend-error.js';
import { estimateSerializedBytes, keyBytes } from './entry-size.js';
import { insertIndexKeys, scanIndexKeys } from './index-table.js';
import { prepareStorage } from './layout.js';
import {
  compareKeys,
  deleteSmall,
  encodeSmall,
  isSmallKey,
  rangePlace,
  type SmallValue,
  scanSmall,
  selectSmall,
  upsertSmall,
} from './small-records.js';

/**
 * Cloudflare's limit on one SQLite-backed Durable Object storage entry: key and value
 * together at most 2 MB ("Maximum string, BLOB or table row size").
 */
export const DURABLE_OBJECT_MAX_ENTRY_BYTES = 2_000_000;

export interface DurableObjectKvOptions {
  /**
   * Largest entry (key bytes plus an upper bound of the serialized value) a commit may
   * write. Default and maximum: `DURABLE_OBJECT_MAX_ENTRY_BYTES`. A commit with a larger
   * entry is refused with `InvalidArgumentError` before anything is written.
   */
  readonly maxEntryBytes?: number;
}

const MISSING_TABLE = /no such table: eventkv_/;
const isMissingTable = (error: unknown): boolean =>
  MISSING_TABLE.test(error instanceof Error ? error.message : String(error));

/** A storage failure inside `readOnce`, with the step it failed in. */
class ReadFailure extends Error {
  constructor(
    readonly phase: 'get' | 'scan',
    cause: unknown,
  ) {
    super('read failed', { cause });
  }
}

// Listeners are shared by every adapter over the same storage, so a store and a
// subscriber built on two adapters in one object still hear each other's commits.
const listenersOf = new WeakMap<DurableObjectStorage, Set<KvChangeListener>>();

/**
 * The KV adapter over SQLite-backed Durable Object storage (`ctx.storage`). Records go
 * through the synchronous KV API (`ctx.storage.kv`), their index keys into a table of the
 * same SQLite database (`ctx.storage.sql`, see `index-table.ts`); `write` runs its checks,
 * index keys, puts and deletes in one `transactionSync`, so a failed check, a clashing
 * index key or a refused put rolls the whole write back.
 *
 * Creating the adapter creates its tables if needed, and migrates an object written by a
 * release before index keys (`layout.ts`): a large one in chunks, during which reads and
 * writes wait.
 *
 * @example
 * export class Ledger extends DurableObject {
 *   store = createEventStore<BankEvent>({ kv: createDurableObjectKv(this.ctx.storage) });
 * }
 */
export const createDurableObjectKv = (
  storage: DurableObjectStorage,
  options: DurableObjectKvOptions = {},
): Kv => {
  const maxEntryBytes = options.maxEntryBytes ?? DURABLE_OBJECT_MAX_ENTRY_BYTES;
  if (
    !Number.isInteger(maxEntryBytes) ||
    maxEntryBytes < 1 ||
    maxEntryBytes > DURABLE_OBJECT_MAX_ENTRY_BYTES
  ) {
    throw new InvalidArgumentError(
      'options.maxEntryBytes',
      `must be an integer between 1 and ${DURABLE_OBJECT_MAX_ENTRY_BYTES}`,
    );
  }
  if (
    typeof storage?.transactionSync !== 'function' ||
    typeof storage.kv !== 'object' ||
    typeof storage.sql?.exec !== 'function'
  ) {
    throw new InvalidArgumentError(
      'storage',
      'must be the storage of a SQLite-backed Durable Object (declare the class under new_sqlite_classes)',
    );
  }
  const { kv, sql } = storage;
  // The tables, and the migration of an older layout. A failure here (or a migration that
  // goes on over several turns) leaves `ready` false: the next call waits, or tries again.
  let ready = false;
  let preparing: Promise<void> | undefined;
  const prepare = (): void => {
    preparing = prepareStorage(storage);
    if (preparing === undefined) ready = true;
    // Awaited by the calls; a failure is theirs to report, not an unhandled rejection.
    else preparing.catch(() => {});
  };
  try {
    prepare();
  } catch {
    // Tried again, and reported, on the first call.
  }
  const whenReady = async (operation: string): Promise<void> => {
    try {
      if (preparing === undefined) prepare();
      if (preparing !== undefined) await preparing;
      ready = true;
    } catch (error) {
      throw toKvError(operation, error);
    } finally {
      preparing = undefined;
    }
  };
  const listeners = listenersOf.get(storage) ?? new Set<KvChangeListener>();
  listenersOf.set(storage, listeners);
  const notify = (keys: string[]): void => {
    for (const listener of listeners) {
      try {
        listener(keys);
      } catch {
        // A listener must not throw (see KvChangeListener); one that does cannot undo the commit.
      }
    }
  };

  const refuseOversize = ({ puts = [] }: KvCommit): void => {
    for (const { key, value } of puts) {
      const size = keyBytes(key) + estimateSerializedBytes(value);
      if (size > maxEntryBytes) {
        throw new InvalidArgumentError(
          `key '${shorten(key)}'`,
          `the entry takes about ${size} bytes, more than the ${maxEntryBytes} bytes Durable Object storage accepts; nothing was written`,
        );
      }
    }
  };
  /** A small record's value from its row (null: the KV entry under its key). */
  const fromRow = (key: string, row: SmallValue): unknown =>
    row === null ? kv.get(key) : JSON.parse(row);

  /**
   * The values of `keys`: small records' (`small-records.ts`) from their table with one
   * `SELECT`, the others with `kv.get` each.
   */
  const getValues = (keys: readonly string[]): unknown[] => {
    const small = keys.filter(isSmallKey);
    if (small.length === 0) return keys.map((key) => kv.get(key));
    const rows = selectSmall(sql, small);
    return keys.map((key) => {
      if (!isSmallKey(key)) return kv.get(key);
      const row = rows.get(key);
      return row === undefined ? undefined : fromRow(key, row);
    });
  };

  /**
   * Checks and writes; call inside `transactionSync`. `known` holds values this transaction
   * has already read: a check on one of them compares with it instead of reading again.
   */
  const apply = (
    { checks = [], puts = [], deletes = [] }: KvCommit,
    known: ReadonlyMap<string, unknown> | undefined,
  ): void => {
    if (checks.length > 0) {
      const unknown = checks.filter((check) => !known?.has(check.key)).map((check) => check.key);
      const read = unknown.length === 0 ? undefined : getValues(unknown);
      let next = 0;
      const failed = failedChecks(
        checks,
        checks.map((check) =>
          known?.has(check.key) ? known.get(check.key) : (read as unknown[])[next++],
        ),
      );
      // Thrown inside the callback, so the transaction rolls back (nothing was written yet anyway).
      if (failed.length > 0) throw new KvConditionError(failed);
    }
    // The small records' rows; with an append's index keys in one statement if they fit.
    const rows: [string, SmallValue][] = [];
    for (const { key, value } of puts) {
      if (isSmallKey(key)) rows.push([key, encodeSmall(key, value, maxEntryBytes)]);
    }
    if (!insertIndexKeys(sql, puts, rows)) upsertSmall(sql, rows);
    let next = 0;
    for (const { key, value } of puts) {
      // A small record goes to the KV only when its row says so (null); rows are in put order.
      if (isSmallKey(key) && (rows[next++] as [string, SmallValue])[1] !== null) continue;
      try {
        kv.put(key, value);
      } catch (error) {
        throw toPutError(key, error);
      }
    }
    const smallDeletes: string[] = [];
    for (const key of deletes) {
      // A small record's row is its value: without the row, a KV entry under its key is stale.
      if (isSmallKey(key)) smallDeletes.push(key);
      else kv.delete(key);
    }
    deleteSmall(sql, smallDeletes);
  };
  const changed = ({ puts = [], deletes = [] }: KvCommit): void => {
    if (listeners.size > 0) notify([...puts.map((put) => put.key), ...deletes]);
  };

  const list = (scan: KvScan): KvEntry[] => {
    const { start, end, empty } = resolveRange(scan);
    if (empty || (scan.limit !== undefined && scan.limit <= 0)) return [];
    const place = rangePlace(start, end);
    if (place === 'kv') return listKv(start, end, scan);
    const small: KvEntry[] = [];
    let rows: [string, SmallValue][] = [];
    try {
      rows = scanSmall(sql, start, end, scan.reverse === true, scan.limit ?? -1);
    } catch (error) {
      if (!isMissingTable(error)) throw error;
      // `deleteAll()` dropped the tables: no small record is left. The next call creates them.
      ready = false;
    }
    for (const [key, row] of rows) {
      const value = fromRow(key, row);
      if (value !== undefined) small.push({ key, value });
    }
    if (place === 'small') return small;
    // A range across both places: the two lists merged in key order.
    const other: KvEntry[] = [];
    for (const [key, value] of kv.list({
      ...(start === undefined ? {} : { start }),
      ...(end === undefined ? {} : { end }),
      ...(scan.reverse ? { reverse: true } : {}),
    })) {
      if (isSmallKey(key)) continue;
      other.push({ key, value });
      if (other.length === scan.limit) break;
    }
    const direction = scan.reverse ? -1 : 1;
    const merged = [...small, ...other].sort((a, b) => direction * compareKeys(a.key, b.key));
    return scan.limit === undefined ? merged : merged.slice(0, scan.limit);
  };

  /** A range of `ctx.storage.kv` alone (one that holds no small record). */
  const listKv = (start: string | undefined, end: string | undefined, scan: KvScan): KvEntry[] => {
    const out: KvEntry[] = [];
    // reverse + limit take the last `limit` keys of the range, as the contract asks.
    for (const [key, value] of kv.list({
      ...(start === undefined ? {} : { start }),
      ...(end === undefined ? {} : { end }),
      ...(scan.reverse ? { reverse: true } : {}),
      ...(scan.limit === undefined ? {} : { limit: scan.limit }),
    })) {
      out.push({ key, value });
    }
    return out;
  };

  /** The records holding the index keys of a range, with the index key each was found under. */
  const listByIndex = (scan: KvScan): KvEntry[] => {
    let rows: [string, string][];
    try {
      rows = scanIndexKeys(sql, scan);
    } catch (error) {
      if (!isMissingTable(error)) throw error;
      // `deleteAll()` dropped the tables with everything else: no index keys are left. The
      // next call creates the tables again.
      ready = false;
      return [];
    }
    const out: KvEntry[] = [];
    const values = getValues(rows.map(([, key]) => key));
    for (const [i, [indexKey, key]] of rows.entries()) {
      const value = values[i];
      // Deleting a record that has index keys is outside the contract (core never does):
      // its index keys then name nothing, and are passed over.
      if (value !== undefined) out.push({ key, value, indexKey });
    }
    return out;
  };

  /**
   * The values of `keys`, then the range `then` asks for, in one `transactionSync`, though
   * nothing is written: inside a transaction SQLite reads in the one it holds, where outside
   * of one each statement and each `kv` call opens and ends a read transaction of its own.
   * Measured in local workerd (`bench:durable-object-calls`): a SELECT of one small record 13
   * µs outside, 6 µs inside, with the transaction; a `kv.get` 8 µs and 3 µs. What the
   * storage throws comes out as a `ReadFailure` naming the step; what `then` throws
   * (core's own errors) unchanged.
   */
  const readOnce = (
    keys: readonly string[],
    then: ((values: (KvValue | undefined)[]) => KvScan | undefined) | undefined,
  ): KvRead => {
    let phase: 'get' | 'scan' = 'get';
    let result: KvRead | undefined;
    let refused: { readonly error: unknown } | undefined;
    try {
      storage.transactionSync(() => {
        const values = getValues(keys);
        let range: KvScan | undefined;
        try {
          range = then?.(values.slice());
        } catch (error) {
          refused = { error };
          throw error;
        }
        phase = 'scan';
        result = {
          values,
          entries: !range ? [] : range.by === 'index' ? listByIndex(range) : list(range),
        };
      });
    } catch (error) {
      if (refused) throw refused.error;
      throw new ReadFailure(phase, error);
    }
    return result as KvRead;
  };

  /** One write in one `transactionSync`; returns the change it applied. */
  const writeOnce = (
    keys: readonly string[],
    plan: (values: (KvValue | undefined)[]) => KvCommit | undefined,
  ): KvCommit | undefined => {
    let commit: KvCommit | undefined;
    // What the plan throws is the caller's own error and goes back to it unchanged.
    let refused: { readonly error: unknown } | undefined;
    try {
      storage.transactionSync(() => {
        const values = getValues(keys);
        try {
          commit = plan(values);
        } catch (error) {
          refused = { error };
          throw error;
        }
        if (!commit) return;
        // Thrown inside the callback: the transaction has written nothing yet.
        refuseOversize(commit);
        apply(
          commit,
          keys.length === 0 ? undefined : new Map(keys.map((key, i) => [key, values[i]])),
        );
      });
    } catch (error) {
      if (refused) throw refused.error;
      throw error;
    }
    return commit;
  };

  return {
    capabilities: { atomic: true, copiesValues: true, indexes: true },
    // Synchronous calls with no await between them: nothing else runs in the object
    // meanwhile, so the range is read as of the values.
    async read(keys, then) {
      if (!ready) await whenReady(then === undefined ? 'get' : 'scan');
      try {
        return readOnce(keys, then);
      } catch (error) {
        if (!(error instanceof ReadFailure)) throw error;
        if (error.phase === 'scan' || !isMissingTable(error.cause)) {
          // A scan's tables were there for the values just read, in the same transaction.
          throw toKvError(error.phase, error.cause);
        }
        // `deleteAll()` dropped the tables: create them again, and read once more.
        ready = false;
        await whenReady('get');
        try {
          return readOnce(keys, then);
        } catch (again) {
          if (!(again instanceof ReadFailure)) throw again;
          throw toKvError(again.phase, again.cause);
        }
      }
    },
    async write(keys, plan) {
      if (!ready) await whenReady('commit');
      let commit: KvCommit | undefined;
      try {
        commit = writeOnce(keys, plan);
      } catch (error) {
        if (!isMissingTable(error)) throw toKvError('commit', error);
        // `deleteAll()` dropped the tables (the write applied nothing): create them again,
        // and write once more.
        ready = false;
        await whenReady('commit');
        try {
          commit = writeOnce(keys, plan);
        } catch (again) {
          throw toKvError('commit', again);
        }
      }
      if (commit) changed(commit);
    },
    watch(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
};
