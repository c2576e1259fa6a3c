import type {
  EventStore,
  EventStream,
  IndexName,
  RecordedEvent,
  Snapshot,
  Unsubscribe,
} from '@eventkv/core';
import {
  ACCOUNT_TYPE,
  type AccountState,
  type BankEvent,
  type Command,
  decide,
  evolve,
  initialState,
  replay,
} from './domain';

export type LedgerEvent = RecordedEvent<BankEvent>;

/** An account as loaded: its state, and how the load got there (the machinery on show). */
export interface LoadedAccount {
  readonly id: string;
  readonly state: AccountState;
  readonly version: number;
  /** The snapshot the load started from, if any. */
  readonly snapshotVersion: number | undefined;
  /** Events replayed on top of the snapshot (all of them without one). */
  readonly replayed: number;
}

export interface AccountSummary {
  readonly id: string;
  readonly owner: string;
  readonly currency: string;
  readonly openedAt: number;
}

/** Who acts: recorded in each event's metadata. */
export interface Actor {
  readonly userId: string;
}

export interface ExecuteOptions {
  /**
   * Runs after the command was decided at `expectedVersion` and before its append: the
   * demo's "simulate a concurrent edit" writes another event here.
   */
  readonly beforeAppend?: (stream: EventStream<BankEvent>) => Promise<void>;
}

export interface ExecuteResult {
  readonly version: number;
  readonly events: BankEvent[];
  readonly correlationId: string;
}

export interface AuditQuery {
  readonly by: Extract<IndexName, 'user' | 'eventType'>;
  readonly value: string;
  readonly since?: number;
  readonly until?: number;
  readonly cursor?: string;
  readonly limit?: number;
}

const PAGE = 100;

/**
 * The bank ledger's application service over any `EventStore`: the IndexedDB-backed one
 * in the browser and the HTTP one talking to the Worker expose the same API, so this code
 * is the same for both.
 */
export const createLedger = (store: EventStore<BankEvent>, database?: string) => {
  const ref = (id: string) => ({
    ...(database === undefined ? {} : { database }),
    type: ACCOUNT_TYPE,
    id,
  });
  const stream = (id: string) => store.stream(ref(id));

  return {
    stream,

    /** Every account ever opened, newest first (from the `eventType` index). */
    async listAccounts(): Promise<AccountSummary[]> {
      const accounts: AccountSummary[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.query('eventType', 'AccountOpened', {
          ...(database === undefined ? {} : { database }),
          limit: PAGE,
          ...(cursor === undefined ? {} : { cursor }),
        });
        for (const event of page.events) {
          if (event.type !== 'AccountOpened') continue;
          accounts.push({
            id: event.metadata.aggregateId,
            owner: event.data.owner,
            currency: event.data.currency,
            openedAt: event.metadata.timestamp,
          });
        }
        cursor = page.cursor;
      } while (cursor !== undefined);
      return accounts.reverse();
    },

    /** Latest snapshot + the events after it, replayed. */
    async load(id: string): Promise<LoadedAccount> {
      const { snapshot, events, version } = await stream(id).load<AccountState>();
      return {
        id,
        state: replay(events, snapshot?.state ?? initialState),
        version,
        snapshotVersion: snapshot?.version,
        replayed: events.length,
      };
    },

    /** The newest events of an account up to a version (default: all), newest first. */
    timeline: async (id: string, limit = 50, upTo?: number): Promise<LedgerEvent[]> =>
      upTo === 0
        ? [] // a stream without events: reads start at version 1
        : stream(id).read({
            direction: 'backward',
            limit,
            ...(upTo === undefined ? {} : { to: upTo }),
          }),

    /**
     * Decides a command against a loaded state and appends its events, expecting the
     * version the decision was made at: if anyone appended since, the append is refused
     * with `VersionMismatchError` and nothing is written.
     */
    async execute(
      account: { id: string; state: AccountState; version: number },
      command: Command,
      actor: Actor,
      options: ExecuteOptions = {},
    ): Promise<ExecuteResult> {
      const events = decide(account.state, command);
      const correlationId = crypto.randomUUID();
      const target = stream(account.id);
      await options.beforeAppend?.(target);
      const result = await target.append(
        events.map((event) => ({
          ...event,
          metadata: { userId: actor.userId, correlationId },
        })),
        { expectedVersion: account.version === 0 ? 'no-stream' : account.version },
      );
      return { version: result.version, events, correlationId };
    },

    /** Saves the loaded state as a snapshot at its version. */
    snapshot: (account: { id: string; state: AccountState; version: number }): Promise<void> =>
      stream(account.id).saveSnapshot(account.version, account.state),

    latestSnapshot: (id: string): Promise<Snapshot<AccountState> | undefined> =>
      stream(id).latestSnapshot<AccountState>(),

    snapshotVersions: (id: string): Promise<number[]> => stream(id).snapshotVersions(),

    /** Live tail of an account after `version`, another tab's or device's appends included. */
    follow(
      id: string,
      version: number,
      listener: (events: LedgerEvent[]) => void,
      onError: (error: unknown) => void,
    ): Unsubscribe {
      return stream(id).subscribe(listener, { from: version + 1, onError });
    },

    /** Events of the database by user or by type within `[since, until)`, a page at a time. */
    audit: (query: AuditQuery) =>
      store.query(query.by, query.value, {
        ...(database === undefined ? {} : { database }),
        ...(query.since === undefined ? {} : { since: query.since }),
        ...(query.until === undefined ? {} : { until: query.until }),
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        limit: query.limit ?? 50,
      }),
  };
};

export type Ledger = ReturnType<typeof createLedger>;

/** Applies live events to a loaded account (they follow its version). */
export const advance = (account: LoadedAccount, events: readonly LedgerEvent[]): LoadedAccount => {
  let { state, version } = account;
  for (const event of events) {
    if (event.version !== version + 1) continue; // already applied, or not the next one
    state = evolve(state, event);
    version = event.version;
  }
  return { ...account, state, version };
};
