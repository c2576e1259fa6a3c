/**
 * What every benchmarked store is driven through: one small async interface, so the
 * floors, eventkv and the peers run exactly the same workloads.
 */

// Type aliases rather than interfaces: Emmett wants payloads assignable to a string record.
export type DepositData = {
  readonly accountId: string;
  readonly amount: number;
  readonly currency: string;
  readonly note: string;
};

export type DepositMetadata = { readonly userId: string; readonly correlationId: string };

export type Deposit = {
  readonly type: 'Deposited';
  readonly data: DepositData;
  readonly metadata: DepositMetadata;
};

/** The state the replay and snapshot workloads rebuild. */
export interface AccountState {
  readonly balance: number;
  readonly count: number;
}

/** A store under test. Versions are 1-based; `expected` is the version before the append. */
export interface BenchStore {
  append(stream: string, events: readonly Deposit[], expected: number): Promise<void>;
  /** Reads versions `[from, to]` (default: all) and returns how many events came back. */
  read(stream: string, from?: number, to?: number): Promise<number>;
  version(stream: string): Promise<number>;
  /** Reads the whole stream and folds it. */
  replay(stream: string): Promise<AccountState>;
  /** Latest snapshot plus the events after it, folded (only stores with snapshots). */
  load?(stream: string): Promise<AccountState>;
  /** Saves a snapshot every `every` events of the stream (only stores with snapshots). */
  snapshotEvery?(stream: string, every: number): Promise<void>;
}

export interface Subject {
  /** Short column name. */
  readonly name: string;
  /** An empty store. */
  create(): BenchStore;
  /** A store holding `count` events in each listed stream (setup, not timed). */
  seed?(streams: readonly (readonly [string, number])[]): Promise<BenchStore>;
}

/** The largest append eventkv accepts by default; used to seed big streams. */
export const SEED_BATCH = 1000;

/** `count` distinct deposits (same shape, distinct correlation ids). */
export const makeDeposits = (count: number, offset = 0): Deposit[] =>
  Array.from({ length: count }, (_, i) => ({
    type: 'Deposited',
    data: { accountId: 'acc-42', amount: 125.5, currency: 'EUR', note: 'salary' },
    metadata: { userId: 'u-7', correlationId: `c-${offset + i}` },
  }));

export const foldDeposits = (
  state: AccountState | undefined,
  events: readonly { readonly data: DepositData }[],
): AccountState => {
  let balance = state?.balance ?? 0;
  let count = state?.count ?? 0;
  for (const event of events) {
    balance += event.data.amount;
    count += 1;
  }
  return { balance, count };
};

/** Fills a store through its own append, in batches of `SEED_BATCH`. */
export const seedByAppending = async (
  store: BenchStore,
  streams: readonly (readonly [string, number])[],
): Promise<BenchStore> => {
  for (const [stream, count] of streams) {
    for (let done = 0; done < count; ) {
      const size = Math.min(SEED_BATCH, count - done);
      await store.append(stream, makeDeposits(size, done), done);
      done += size;
    }
  }
  return store;
};
