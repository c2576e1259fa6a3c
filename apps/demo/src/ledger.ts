import type {
  EventStore,
  EventStream,
  IndexName,
  RecordedEvent,
  Snapshot,
  Unsubscribe,
} from '@eventkv/core';
import type { Conflict, SyncedStore } from '@eventkv/sync';
import {
  ACCOUNT_TYPE,
  type AccountState,
  type BankEvent,
  type Command,
  decide,
  evolve,
  initialState,
  LedgerRuleError,
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
  /** Opened on this device and not yet on the Worker (a synced store only). */
  readonly pending?: boolean;
}

/**
 * An account whose offline commands met another device's changes: what the person needs to
 * decide between retrying them on the new balance and dropping them.
 */
export interface AccountConflict {
  readonly id: string;
  readonly kind: Conflict['kind'];
  /** The account as the Worker has it now (the other device's changes included). */
  readonly current: AccountState;
  /** The other device's events this device had not seen. */
  readonly theirs: LedgerEvent[];
  /** This device's commands that wait (in order), as decided offline. */
  readonly mine: { readonly command: Command | undefined; readonly events: BankEvent[] }[];
  /** Why the Worker refused them, for a `rejected` conflict. */
  readonly reason?: string;
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
  // A synced store (the demo's) keeps each command with its events, for a retry after a
  // conflict; any other store is used as it is.
  const sync = (store as Partial<SyncedStore<BankEvent>>).sync;
  const ref = (id: string) => ({
    ...(database === undefined ? {} : { database }),
    type: ACCOUNT_TYPE,
    id,
  });
  const stream = (id: string) => store.stream(ref(id));
  /** The account's events the Worker confirmed (all of them on a store that does not sync). */
  const confirmedEvents = async (id: string): Promise<LedgerEvent[]> =>
    sync
      ? (await (store as SyncedStore<BankEvent>).stream(ref(id)).read()).filter((e) => e.confirmed)
      : stream(id).read();

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
      // Queries cover what the Worker confirmed: accounts opened here and not yet synced
      // come from the outbox.
      const known = new Set(accounts.map((a) => a.id));
      for (const pending of (await sync?.pendingStreams()) ?? []) {
        const { type, id } = pending.ref;
        if (type !== ACCOUNT_TYPE || known.has(id)) continue;
        const [first] = await stream(id).read({ limit: 1 });
        if (first?.type !== 'AccountOpened') continue;
        accounts.push({
          id,
          owner: first.data.owner,
          currency: first.data.currency,
          openedAt: first.metadata.timestamp,
          pending: true,
        });
      }
      return accounts.sort((a, b) => a.openedAt - b.openedAt).reverse();
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
      const expectedVersion = account.version === 0 ? 'no-stream' : account.version;
      const stamped = events.map((event) => ({
        ...event,
        metadata: { userId: actor.userId, correlationId },
      }));
      const result = sync
        ? await (store as SyncedStore<BankEvent>)
            .stream(ref(account.id))
            .append(stamped, { expectedVersion, command })
        : await target.append(stamped, { expectedVersion });
      return { version: result.version, events, correlationId };
    },

    /**
     * Saves the loaded state as a snapshot at its version; on a synced store, the state the
     * Worker confirmed (a snapshot never holds a change that may still be refused). Returns
     * the version saved at.
     */
    async snapshot(account: { id: string; state: AccountState; version: number }): Promise<number> {
      if (!sync) {
        await stream(account.id).saveSnapshot(account.version, account.state);
        return account.version;
      }
      const confirmed = await confirmedEvents(account.id);
      const version = confirmed.at(-1)?.version ?? 0;
      if (version === 0) {
        throw new LedgerRuleError(
          'Nothing of this account is synced yet: snapshot it after a sync.',
        );
      }
      await stream(account.id).saveSnapshot(version, replay(confirmed));
      return version;
    },

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

    /** The account's conflict, if its offline commands met another device's changes. */
    async conflict(id: string): Promise<AccountConflict | undefined> {
      const found = await sync?.conflict(ref(id));
      if (!found) return undefined;
      const confirmed = await confirmedEvents(id);
      const mine: { command: Command | undefined; events: BankEvent[] }[] = [];
      found.mine.forEach((event, i) => {
        const command = found.commands[i] as Command | undefined;
        const last = mine.at(-1);
        if (i > 0 && command === undefined && last) last.events.push(event);
        else mine.push({ command, events: [event] });
      });
      return {
        id,
        kind: found.kind,
        current: replay(confirmed),
        theirs: found.theirs,
        mine,
        ...(found.error ? { reason: found.error.message } : {}),
      };
    },

    /**
     * Decides this device's waiting commands again on the account as the Worker has it and
     * appends the result in their place. Throws `LedgerRuleError` when a command no longer
     * holds (e.g. the funds are now short): the conflict stays, to drop.
     */
    async retryConflict(id: string, actor: Actor): Promise<void> {
      if (!sync) throw new Error('retrying a conflict needs a synced store');
      await sync.resolve(ref(id), {
        rebase: async (conflict) => {
          let state = replay(await confirmedEvents(id));
          const events: BankEvent[] = [];
          const correlationId = crypto.randomUUID();
          for (const [i, command] of conflict.commands.entries()) {
            if (command === undefined) {
              if (i === 0) throw new LedgerRuleError('this change was not made by a command');
              continue;
            }
            const decided = decide(state, command as Command);
            for (const event of decided) state = evolve(state, event);
            events.push(...decided);
          }
          return events.map((event) => ({
            ...event,
            metadata: { userId: actor.userId, correlationId },
          }));
        },
      });
    },

    /** Drops this device's waiting commands: the Worker's history stands. */
    async dropConflict(id: string): Promise<void> {
      if (!sync) throw new Error('dropping a conflict needs a synced store');
      await sync.resolve(ref(id), { discard: true });
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
