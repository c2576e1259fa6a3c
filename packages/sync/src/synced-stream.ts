import {
  type AppendOptions,
  type AppendResult,
  type EventInput,
  type EventShape,
  type EventStream,
  IdempotencyIdNotFoundError,
  InvalidArgumentError,
  isKvConditionError,
  type LoadResult,
  prepareRemoteAppend,
  type ReadOptions,
  type RecordedEvent,
  type Snapshot,
  type StreamId,
  type Unsubscribe,
  VersionMismatchError,
} from '@eventkv/core';
import type { SyncContext, SyncedEvent } from './context.js';
import { outboxKey, stateKey } from './keys.js';
import {
  type PendingStream,
  pendingEvents,
  readPending,
  readState,
  type StateView,
  withCounts,
} from './outbox.js';
import type { OutboxEntry, StreamState } from './records.js';
import { followSyncedStream, type SyncedSubscribeOptions } from './synced-tail.js';

/** Appends whose commit lost a race this many times in a row give up (never on a version). */
const MAX_ATTEMPTS = 50;

/** Synced-store options of an append: the command it decided, for re-deciding a conflict. */
export interface SyncedAppendOptions extends AppendOptions {
  /** Kept with the pending events and handed to a decider if they conflict. */
  readonly command?: unknown;
}

/** The stream as it is here: the edge's events (confirmed), then the pending ones. */
export interface StreamView {
  /** The version of the last confirmed event. */
  readonly confirmed: number;
  readonly pending: PendingStream;
}

/**
 * The view of a stream, consistent: the pending events read between two reads of the
 * confirmed head that agree (an answer from the edge moves events from pending to
 * confirmed in one commit, so nothing is read twice or missed).
 */
export const viewOf = async (
  ctx: SyncContext,
  ref: StreamId,
  /**
   * How many outbox entries are needed, given the confirmed version (undefined: all): a
   * read that stops before the end of the stream reads only the entries it reaches.
   */
  entriesFor: (confirmed: number) => number | undefined = () => undefined,
): Promise<StreamView> => {
  const mirror = ctx.replica.store.stream(ref);
  for (let attempt = 1; ; attempt++) {
    const before = await mirror.version();
    const pending = await readPending(ctx.replica, ref, entriesFor(before));
    const after = await mirror.version();
    if (before === after || attempt >= MAX_ATTEMPTS) return { confirmed: after, pending };
  }
};

/** The stream's version here, as `viewOf` would count it, from its state (not its outbox). */
const versionHere = async (ctx: SyncContext, ref: StreamId): Promise<number> => {
  const mirror = ctx.replica.store.stream(ref);
  for (let attempt = 1; ; attempt++) {
    const before = await mirror.version();
    const { count } = await readState(ctx.replica, ref);
    const after = await mirror.version();
    if (before === after || attempt >= MAX_ATTEMPTS) return after + count;
  }
};

/**
 * Whether the caller gave any of these events its message id. When none did, every id
 * was generated for this call: no stored event can carry one, so the append cannot be a
 * retry and the outbox need not be searched for one.
 */
const givesMessageIds = (events: unknown): boolean =>
  (Array.isArray(events) ? events : [events]).some(
    (e) =>
      (e as { metadata?: { messageId?: unknown } } | null | undefined)?.metadata?.messageId !==
      undefined,
  );

const integer = (field: string, value: unknown): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(
      field,
      `must be an integer of at least 1 (got ${String(value)})`,
    );
  }
  return value;
};

/** Read options checked as a store checks them (same fields, same errors). */
const readRange = (options: ReadOptions) => {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!['from', 'to', 'direction', 'limit'].includes(key)) {
      throw new InvalidArgumentError(
        `options.${key}`,
        'is not a read option (from, to, direction, limit)',
      );
    }
  }
  const from = options.from === undefined ? 1 : integer('options.from', options.from);
  const to = options.to === undefined ? undefined : integer('options.to', options.to);
  if (to !== undefined && from > to) {
    throw new InvalidArgumentError(
      'options.from',
      `must not be greater than options.to (${from} > ${to})`,
    );
  }
  const limit = options.limit === undefined ? undefined : integer('options.limit', options.limit);
  const direction = options.direction ?? 'forward';
  if (direction !== 'forward' && direction !== 'backward') {
    throw new InvalidArgumentError('options.direction', "must be 'forward' or 'backward'");
  }
  return { from, to, backward: direction === 'backward', limit };
};

const matches = (expected: AppendOptions['expectedVersion'], current: number): boolean =>
  expected === undefined ||
  expected === 'any' ||
  (expected === 'exists' ? current > 0 : (expected === 'no-stream' ? 0 : expected) === current);

/**
 * A stream of a synced store: reads show the confirmed events and then the pending ones
 * (numbered after them, `confirmed: false`); appends go to the outbox in one local commit;
 * snapshots, queries and the log cover confirmed events only (a pending event may still be
 * discarded by a conflict).
 */
export class SyncedStream<E extends EventShape> implements EventStream<E> {
  readonly ref: StreamId;
  readonly #ctx: SyncContext;

  constructor(ctx: SyncContext, ref: StreamId) {
    this.#ctx = ctx;
    this.ref = ref;
  }

  get #mirror(): EventStream<E> {
    return this.#ctx.replica.store.stream(this.ref) as unknown as EventStream<E>;
  }

  async append(
    events: EventInput<E> | readonly EventInput<E>[],
    options: SyncedAppendOptions = {},
  ): Promise<AppendResult> {
    const { command, ...appendOptions } = options;
    const prepared = prepareRemoteAppend<E>(events, appendOptions, this.#ctx.generateId);
    const mayBeRetry = givesMessageIds(events);
    const { replica } = this.#ctx;
    for (let attempt = 1; ; attempt++) {
      const head = await replica.head(this.ref);
      // The outbox is read only to look for a retry; the counts are in the state.
      let pending: StateView;
      if (mayBeRetry) {
        const stream = await readPending(replica, this.ref);
        const retried = await this.#retried(prepared.events, head.version, stream);
        if (retried) return retried;
        pending = stream;
      } else {
        pending = await readState(replica, this.ref);
      }
      const current = head.version + pending.count;
      if (!matches(prepared.expectedVersion, current)) {
        // The two reads are not one snapshot: a sync that confirmed pending events between
        // them (moved from the outbox to the copy) makes a version that never was. Refused
        // only on a consistent view.
        if ((await replica.head(this.ref)).version !== head.version && attempt < MAX_ATTEMPTS) {
          continue;
        }
        const expected = prepared.expectedVersion;
        throw new VersionMismatchError(this.ref, expected === 'any' ? current : expected, current);
      }
      const n = pending.state?.next ?? 1;
      const now = this.#ctx.clock.now();
      const entry: OutboxEntry = {
        ref: this.ref,
        n,
        from: current + 1,
        events: prepared.events as readonly EventInput<EventShape>[],
        appendedAt: now,
        ...(command === undefined ? {} : { command }),
      };
      const state: StreamState = withCounts(
        { ...(pending.state ?? { ref: this.ref }), next: n + 1 },
        pending.count + prepared.events.length,
        pending.since ?? now,
      );
      try {
        await replica.commit({
          checks: [head.check, pending.stateCheck],
          puts: [
            { key: outboxKey(this.ref, n), value: entry },
            { key: stateKey(this.ref), value: state },
          ],
        });
      } catch (error) {
        if (!isKvConditionError(error) || attempt >= MAX_ATTEMPTS) throw error;
        continue; // another writer (a tab, the engine) moved the stream: decide again
      }
      this.#ctx.emit({ type: 'appended', ref: this.ref, count: prepared.events.length });
      return {
        version: current + prepared.events.length,
        firstVersion: current + 1,
        deduplicated: false,
      };
    }
  }

  /** The stored result when these events (by message id) were appended here already. */
  async #retried(
    events: readonly EventInput<E>[],
    confirmed: number,
    pending: PendingStream,
  ): Promise<AppendResult | undefined> {
    const first = events[0]?.metadata?.messageId as string;
    const ids = events.map((e) => e.metadata?.messageId);
    const all = pendingEvents(pending.entries);
    const at = all.findIndex((e) => e.metadata.messageId === first);
    if (at >= 0) {
      const run = all.slice(at, at + ids.length).map((e) => e.metadata.messageId);
      if (run.length === ids.length && run.every((id, i) => id === ids[i])) {
        const firstVersion = confirmed + at + 1;
        return { version: firstVersion + ids.length - 1, firstVersion, deduplicated: true };
      }
      return undefined;
    }
    try {
      const firstVersion = await this.#mirror.versionOf(first);
      const stored = await this.#mirror.read({
        from: firstVersion,
        to: firstVersion + ids.length - 1,
      });
      if (stored.length === ids.length && stored.every((e, i) => e.metadata.messageId === ids[i])) {
        return { version: firstVersion + ids.length - 1, firstVersion, deduplicated: true };
      }
    } catch {
      // Not confirmed either: a new append.
    }
    return undefined;
  }

  async read(options: ReadOptions = {}): Promise<SyncedEvent<E>[]> {
    const { from, to, backward, limit } = readRange(options);
    // Pending events are numbered from the confirmed head, in outbox order, one or more per
    // entry: a forward read ending at version `last` needs at most `last - top` entries.
    const last = Math.min(
      to ?? Number.POSITIVE_INFINITY,
      backward || limit === undefined ? Number.POSITIVE_INFINITY : from + limit - 1,
    );
    const view = await viewOf(this.#ctx, this.ref, (top) =>
      Number.isFinite(last) ? Math.max(0, last - top) : undefined,
    );
    const top = view.confirmed;
    const confirmedTo = to === undefined ? top : Math.min(to, top);
    const confirmed = from <= confirmedTo ? await this.#mirror.read({ from, to: confirmedTo }) : [];
    const pending = pendingEvents(view.pending.entries)
      .map((e, i) => ({ ...e, version: top + 1 + i }))
      .filter((e) => e.version >= from && (to === undefined || e.version <= to));
    const all: SyncedEvent<E>[] = [
      ...confirmed.map((e) => ({ ...e, confirmed: true })),
      ...(pending as unknown as SyncedEvent<E>[]),
    ];
    if (backward) all.reverse();
    return limit === undefined ? all : all.slice(0, limit);
  }

  version(): Promise<number> {
    return versionHere(this.#ctx, this.ref);
  }

  async versionOf(messageId: string): Promise<number> {
    try {
      return await this.#mirror.versionOf(messageId);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'IDEMPOTENCY_ID_NOT_FOUND') throw error;
    }
    const view = await viewOf(this.#ctx, this.ref);
    const at = pendingEvents(view.pending.entries).findIndex(
      (e) => e.metadata.messageId === messageId,
    );
    if (at < 0) throw new IdempotencyIdNotFoundError(this.ref, messageId);
    return view.confirmed + at + 1;
  }

  saveSnapshot<S>(version: number, state: S): Promise<void> {
    return this.#mirror.saveSnapshot(version, state);
  }

  latestSnapshot<S = unknown>(): Promise<Snapshot<S> | undefined> {
    return this.#mirror.latestSnapshot<S>();
  }

  snapshotAt<S = unknown>(version: number): Promise<Snapshot<S>> {
    return this.#mirror.snapshotAt<S>(version);
  }

  snapshotVersions(): Promise<number[]> {
    return this.#mirror.snapshotVersions();
  }

  async load<S = unknown>(): Promise<LoadResult<E, S>> {
    const snapshot = await this.#mirror.latestSnapshot<S>();
    const events = await this.read({ from: (snapshot?.version ?? 0) + 1 });
    return { snapshot, events, version: events.at(-1)?.version ?? snapshot?.version ?? 0 };
  }

  snapshotEvery<S>(
    every: number,
    fold: (state: S | undefined, events: RecordedEvent<E>[]) => S | Promise<S>,
  ): Promise<number[]> {
    return this.#mirror.snapshotEvery(every, fold);
  }

  deleteSnapshot(version: number): Promise<void> {
    return this.#mirror.deleteSnapshot(version);
  }

  clearSnapshots(): Promise<number> {
    return this.#mirror.clearSnapshots();
  }

  /** A live tail; see `followSyncedStream` for what happens when pending events are replaced. */
  subscribe(
    listener: (events: SyncedEvent<E>[]) => void,
    options?: SyncedSubscribeOptions,
  ): Unsubscribe {
    return followSyncedStream(this.#ctx, this, listener, options);
  }
}
