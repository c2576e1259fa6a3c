import type { EventInput, EventShape, StreamRef } from '@eventkv/core';
import {
  type Conflict,
  createSyncedStore,
  type Resolution,
  type SyncedStore,
} from '../../src/index.js';
import { CrashableKv } from './crash-kv.js';
import type { Ledger } from './ledger.js';
import type { Link } from './link.js';
import type { Settlement } from './schedule.js';
import type { SyncModelTarget } from './target.js';

/**
 * One replica of the run: a synced store over its own storage, through its own link. A
 * crash drops the store (and its process: nothing it had started reaches the storage
 * again) and opens a new one over the same storage.
 */
export class ReplicaUnderTest {
  readonly index: number;
  readonly user: string;
  /** Pulls only the streams it holds. */
  readonly held: boolean;
  /** The streams it appended to: a replica of scope 'held' holds them. */
  readonly holds = new Set<string>();
  readonly link: Link;
  readonly #target: SyncModelTarget;
  readonly #ledger: Ledger;
  readonly #kvName: string;
  readonly #tag: string;
  #incarnation = 0;
  #settled = 0;
  #kv!: CrashableKv;
  #store!: SyncedStore;
  /** Storage handles of dead processes, closed when the run ends. */
  readonly #dead: CrashableKv[] = [];

  constructor(options: {
    target: SyncModelTarget;
    ledger: Ledger;
    tag: string;
    index: number;
    user: string;
    held: boolean;
    link: Link;
  }) {
    this.#target = options.target;
    this.#ledger = options.ledger;
    this.#tag = `${options.tag}.r${options.index}`;
    this.#kvName = `${options.tag}-r${options.index}`;
    this.index = options.index;
    this.user = options.user;
    this.held = options.held;
    this.link = options.link;
    this.#open();
  }

  get store(): SyncedStore {
    return this.#store;
  }

  get name(): string {
    return `replica ${this.index} (${this.user}${this.held ? ', held streams' : ''})`;
  }

  #open(): void {
    this.#incarnation++;
    this.#kv = new CrashableKv(this.#target.openKv(this.#kvName));
    // Ids say which replica and which process made them; the ledger knows each one.
    const prefix = `${this.#tag}.${this.#incarnation}.g`;
    let made = 0;
    this.#store = createSyncedStore({
      kv: this.#kv,
      remote: this.link,
      scope: this.held ? 'held' : 'database',
      generateId: () => {
        const id = `${prefix}${++made}`;
        this.#ledger.issued.add(id);
        return id;
      },
    });
  }

  /** The process dies between operations and starts again. */
  restart(): void {
    this.#kv.die();
    this.#dead.push(this.#kv);
    this.#open();
  }

  /**
   * A sync runs and the process dies before the sync's (commits+1)th local commit (or
   * after the sync, if it commits less); then it starts again.
   */
  async crashDuringSync(commits: number): Promise<'during' | 'after'> {
    const died = this.#kv.dieBeforeCommit(commits).then(() => 'during' as const);
    const sync = this.#store.sync.syncNow().then(
      () => 'after' as const,
      () => 'after' as const,
    );
    const when = await Promise.race([died, sync]);
    this.restart();
    return when;
  }

  /** The ids of the stream's pending events, in order. */
  async pendingIds(ref: StreamRef): Promise<string[]> {
    const events = await this.#store.stream(ref).read();
    return events.filter((e) => !e.confirmed).map((e) => e.metadata.messageId);
  }

  /**
   * Settles a conflicted stream as the app would, and tells the ledger which pending
   * events were replaced or discarded and which new ones were made. `duringSync`: while a
   * sync of this replica runs (what it did is returned: its error, if it failed).
   */
  async settle(
    ref: StreamRef & { id: string },
    how: Settlement,
    options: { fewer?: boolean; duringSync?: boolean } = {},
  ): Promise<{ syncError?: unknown }> {
    const conflict = await this.#store.sync.conflict(ref);
    if (!conflict) throw new Error(`${ref.id} has no conflict`);
    let before = conflict.mine.map((e) => e.metadata.messageId);
    // New events' ids: made by the store, or (beside a sync, which may confirm them before
    // they can be read back as pending) given here.
    const given = options.duringSync === true;
    const newId = () => {
      if (!given) return {};
      const messageId = `${this.#tag}.s${++this.#settled}`;
      this.#ledger.issued.add(messageId);
      return { messageId };
    };
    /** The events the resolution puts in place of the pending ones. */
    let made: EventInput<EventShape>[] = [];
    /** A decider: each pending event decided again on the edge's events (the data says how many). */
    const rebase = (now: Conflict): EventInput<EventShape>[] => {
      before = now.mine.map((e) => e.metadata.messageId);
      made = now.mine
        .filter((_, i) => !options.fewer || i % 2 === 0)
        .map((event) => {
          const m = event.metadata;
          const metadata = {
            ...(how === 'rebase-same-ids' ? { messageId: m.messageId } : newId()),
            ...(m.userId === undefined ? {} : { userId: m.userId }),
            ...(m.correlationId === undefined ? {} : { correlationId: m.correlationId }),
          };
          const data =
            event.data === undefined
              ? {}
              : { data: { ...(event.data as object), basis: now.theirs.length } };
          return { type: event.type, ...data, metadata } as EventInput<EventShape>;
        });
      return made;
    };
    let resolution: Resolution;
    if (how === 'discard') resolution = { discard: true };
    else if (how === 'events') {
      made = [
        { type: 'Merged', data: { by: this.index, replaced: before.length }, metadata: newId() },
      ];
      resolution = { events: made };
    } else resolution = { rebase };
    const syncing = given
      ? this.#store.sync.syncNow().then(
          () => undefined,
          (error: unknown) => error,
        )
      : undefined;
    await this.#store.sync.resolve(ref, resolution);
    const syncError = await syncing;
    const after =
      given || made.length === 0
        ? made.map((e) => e.metadata?.messageId as string)
        : await this.pendingIds(ref);
    const origin = { replica: this.index, stream: ref.id };
    this.#ledger.drop(
      before.filter((id) => !after.includes(id)),
      origin,
    );
    this.#ledger.acknowledge(
      after.filter((id) => !before.includes(id)),
      origin,
    );
    return syncError === undefined ? {} : { syncError };
  }

  /** Ends the run for this replica: every storage handle it opened is closed. */
  async close(): Promise<void> {
    this.#kv.die();
    for (const kv of [...this.#dead, this.#kv]) await kv.close().catch(() => {});
    await this.#target.removeKv?.(this.#kvName);
  }
}
