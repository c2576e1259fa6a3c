/**
 * The key-value contract: the only thing a storage adapter implements.
 *
 * Keys are ASCII strings built by core (see `keys.ts`), so lexicographic order is the
 * same in every backend (UTF-16 code-unit order in IndexedDB, byte order in SQLite).
 * Values are structured-cloneable data built by core.
 *
 * Ownership: `commit` takes ownership of the values it is given (core never touches them
 * again), and values returned by `get`/`scan` are read-only for the caller. An adapter
 * that serializes (IndexedDB, Durable Objects) hands out fresh copies and says so with
 * `capabilities.copiesValues`; one that does not (memory) may share its stored values,
 * which core has frozen before handing them over.
 */
export type KvValue = unknown;

export interface KvEntry {
  readonly key: string;
  readonly value: KvValue;
}

/** An ordered range read. `start` is inclusive, `end` exclusive; `prefix` narrows both. */
export interface KvScan {
  readonly prefix?: string;
  readonly start?: string;
  readonly end?: string;
  /** Descending key order. `limit` then counts from the end of the range. */
  readonly reverse?: boolean;
  /** At most this many entries (a positive integer). */
  readonly limit?: number;
}

/**
 * A condition of a commit: `key` is absent, or holds a value deeply equal to `equals`
 * (compare with `kvValuesEqual`).
 */
export type KvCheck =
  | { readonly key: string; readonly absent: true }
  | { readonly key: string; readonly equals: KvValue };

/** One atomic, conditional unit of change. */
export interface KvCommit {
  readonly checks?: readonly KvCheck[];
  readonly puts?: readonly KvEntry[];
  readonly deletes?: readonly string[];
}

export interface KvCapabilities {
  /**
   * `true`: `commit` verifies every check and applies every put and delete as one unit,
   * or applies nothing. `false`: the adapter only guarantees single-key conditional
   * writes, so core sends one put or delete per commit (with checks on that key only)
   * and rolls back what it wrote when a later write fails.
   */
  readonly atomic: boolean;
  /** `true` when values are serialized on write and every read returns a fresh copy. */
  readonly copiesValues: boolean;
  /** Largest number of keys one `commit` (checks + puts + deletes) may touch. */
  readonly maxCommitKeys?: number;
}

export interface Kv {
  readonly capabilities: KvCapabilities;
  /** Point reads, one result per key in the same order; `undefined` for a missing key. */
  get(keys: readonly string[]): Promise<(KvValue | undefined)[]>;
  /** Ordered range read. */
  scan(range: KvScan): Promise<KvEntry[]>;
  /**
   * Atomic conditional write. Throws `KvConditionError` (naming every failed key) when a
   * check does not hold, in which case nothing was applied.
   */
  commit(commit: KvCommit): Promise<void>;
  /**
   * Optional read-modify-write in one transaction, for atomic backends where a separate
   * `get` and `commit` cost two transactions (IndexedDB) or repeated reads (SQLite). Reads
   * `keys`, calls `plan` with their values (synchronously, inside the transaction: it must
   * not await), and applies the commit it returns exactly as `commit` would, checks
   * included; `undefined` writes nothing. Whatever `plan` throws aborts the transaction
   * and reaches the caller: an eventkv error as it is, any other error as it is or as a
   * `StorageError` with it as `cause`. Without it, core reads with `get` and writes with
   * `commit`.
   */
  update?(
    keys: readonly string[],
    plan: (values: (KvValue | undefined)[]) => KvCommit | undefined,
  ): Promise<void>;
  /**
   * Optional: point reads of `keys`, then the range read that `plan` derives from their
   * values (synchronously; `undefined` reads no range), in one read transaction, so the
   * range is consistent with the values (a stream's head and its events). Whatever `plan`
   * throws reaches the caller, as for `update`. Without it, core calls `get`, then `scan`.
   */
  getThenScan?(
    keys: readonly string[],
    plan: (values: (KvValue | undefined)[]) => KvScan | undefined,
  ): Promise<KvEntry[]>;
  /**
   * Optional change feed. Calls `listener` with the keys (puts and deletes) of each commit
   * after it is durable: commits made through this adapter and, where the backend can tell,
   * by other connections to the same storage (another tab). Best effort: a notification may
   * be late, duplicated or missed, so core only uses it as a hint to re-read from the head.
   * Returns a function that removes the listener.
   */
  watch?(listener: KvChangeListener): () => void;
  /** Releases connections or handles, if the adapter holds any. */
  close?(): Promise<void>;
}

/** Receives the keys a commit changed. Must not throw; it is called outside any transaction. */
export type KvChangeListener = (keys: readonly string[]) => void;
