/**
 * The key-value contract: the only thing a storage adapter implements.
 *
 * An ordered key-value store whose records may declare **index keys**: more keys under
 * which the same record is found. Each index key names at most one record in the whole
 * store, so an index key is also a uniqueness constraint (a stream's message ids are
 * index keys, and so are its events' global-log positions and query entries). An adapter
 * either maintains index keys natively (`capabilities.indexes`: an IndexedDB multi-entry
 * unique index, an SQLite table with a primary key, written in the same transaction as
 * the record) or leaves them to core, which emulates them with one entry per index key
 * (`kv/emulated-indexes.ts`). See the architecture notes in packages/core/README.md.
 *
 * Two primitives: `read` (point reads, then optionally one range derived from them, in one
 * read transaction) and `write` (point reads, then one conditional change derived from
 * them, in one write transaction). Everything core does is one of the two.
 *
 * Keys are ASCII strings built by core (see `keys.ts`), so lexicographic order is the
 * same in every backend (UTF-16 code-unit order in IndexedDB, byte order in SQLite).
 * Values are structured-cloneable data built by core.
 *
 * Ownership: `write` takes ownership of the values it is given (core never touches them
 * again), and values returned by `read` are read-only for the caller. An adapter that
 * serializes (IndexedDB, Durable Objects) hands out fresh copies and says so with
 * `capabilities.copiesValues`; one that does not (memory) may share its stored values,
 * which core has frozen before handing them over.
 */
export type KvValue = unknown;

export interface KvEntry {
  readonly key: string;
  readonly value: KvValue;
  /** The index key it was found under, on a scan `by: 'index'`. */
  readonly indexKey?: string;
}

/** A record to write, with the index keys it is also found under. */
export interface KvPut {
  readonly key: string;
  readonly value: KvValue;
  /**
   * Index keys of this record, each held by no other record (a write that would give one
   * to a second record fails with `KvConditionError` naming it). A record that declares
   * index keys is written once and never overwritten or deleted: adapters may rely on it.
   */
  readonly indexKeys?: readonly string[];
}

/**
 * An ordered range read. `start` is inclusive, `end` exclusive; `prefix` narrows both.
 * With `by: 'index'` the bounds apply to index keys, and each entry is the record that
 * holds the index key, with `indexKey` set.
 */
export interface KvScan {
  readonly prefix?: string;
  readonly start?: string;
  readonly end?: string;
  /** Descending key order. `limit` then counts from the end of the range. */
  readonly reverse?: boolean;
  /** At most this many entries (a positive integer). */
  readonly limit?: number;
  /** `'key'` (default): records by key. `'index'`: records by their index keys. */
  readonly by?: 'key' | 'index';
  /**
   * `false`: the caller uses only the values (it knows the keys, as a stream read knows its
   * events' keys from their versions), so an adapter may answer each entry with the key
   * `''` where that saves work: IndexedDB's `getAll` reads values alone, in one request.
   * Adapters that do not save anything by it answer the keys as always. Never with `by: 'index'`.
   */
  readonly keys?: false;
}

/**
 * A condition of a write: `key` is absent, or holds a value deeply equal to `equals`
 * (compare with `kvValuesEqual`).
 */
export type KvCheck =
  | { readonly key: string; readonly absent: true }
  | { readonly key: string; readonly equals: KvValue };

/** One atomic, conditional unit of change. */
export interface KvCommit {
  readonly checks?: readonly KvCheck[];
  readonly puts?: readonly KvPut[];
  readonly deletes?: readonly string[];
}

/** What `read` returns: one value per point key (in order), then the range's entries. */
export interface KvRead {
  readonly values: (KvValue | undefined)[];
  readonly entries: KvEntry[];
}

export interface KvCapabilities {
  /**
   * `true`: `write` verifies every check and applies every put and delete as one unit,
   * or applies nothing. `false`: the adapter only guarantees single-key conditional
   * writes, so core sends one put or delete per write (with checks on that key only, and
   * no point reads) and rolls back what it wrote when a later write fails.
   */
  readonly atomic: boolean;
  /** `true` when values are serialized on write and every read returns a fresh copy. */
  readonly copiesValues: boolean;
  /**
   * `true`: the adapter keeps index keys itself (in the record's transaction) and answers
   * scans `by: 'index'`. Otherwise core never hands it index keys or index scans: it
   * writes and reads plain entries that emulate them.
   */
  readonly indexes?: boolean;
  /** Largest number of keys (index keys included) one `write` may touch. */
  readonly maxCommitKeys?: number;
}

export interface Kv {
  readonly capabilities: KvCapabilities;
  /**
   * Point reads of `keys` (`undefined` for a missing key), then, if `then` returns a
   * range for those values, that range; in one read transaction, so the range is
   * consistent with the values (a stream's head and its events). `then` is synchronous;
   * whatever it throws reaches the caller as it is.
   */
  read(
    keys: readonly string[],
    then?: (values: (KvValue | undefined)[]) => KvScan | undefined,
  ): Promise<KvRead>;
  /**
   * Reads `keys`, calls `plan` with their values (synchronously, inside the transaction:
   * it must not await), and applies the change it returns: every check, then every put
   * and delete, as one unit (`capabilities.atomic`). `undefined` writes nothing. Throws
   * `KvConditionError` (naming every failed check's key and every index key already held
   * by another record; an adapter that cannot tell which index key clashed names all of
   * the write's) when the change cannot apply, in which case nothing was applied.
   * Whatever `plan` throws aborts the transaction and reaches the caller as it is.
   */
  write(
    keys: readonly string[],
    plan: (values: (KvValue | undefined)[]) => KvCommit | undefined,
  ): Promise<void>;
  /**
   * Optional change feed. Calls `listener` with the keys (puts and deletes) of each write
   * after it is durable: writes made through this adapter and, where the backend can tell,
   * by other connections to the same storage (another tab). Best effort: a notification may
   * be late, duplicated or missed, so core only uses it as a hint to re-read from the head.
   * Returns a function that removes the listener.
   */
  watch?(listener: KvChangeListener): () => void;
  /** Releases connections or handles, if the adapter holds any. */
  close?(): Promise<void>;
}

/** Receives the keys a write changed. Must not throw; it is called outside any transaction. */
export type KvChangeListener = (keys: readonly string[]) => void;
