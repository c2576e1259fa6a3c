import { type AppendTarget, appendEvents, prepareAppend } from './append.js';
import { decodeEvent, decodeSnapshot, encodePayload, sealRecord } from './encode.js';
import {
  CorruptRecordError,
  IdempotencyIdNotFoundError,
  InvalidArgumentError,
  SnapshotVersionNotFoundError,
  type StreamId,
  VersionNotFoundError,
} from './errors.js';
import { eventUnder } from './event-under.js';
import { type Guard, optimisticGuard } from './guard.js';
import { kvGet, kvGetThenScan, kvScan } from './io.js';
import { decodeNumber, type StreamKeys, type StreamSlot } from './keys.js';
import { log } from './logger.js';
import type { Context } from './options.js';
import {
  asHead,
  asSnapshot,
  type EventRecord,
  eventProblem,
  type SnapshotRecord,
} from './records.js';
import { snapshotInChunks } from './snapshot-every.js';
import { type SubscribeOptions, subscribe, type Unsubscribe } from './subscribe.js';
import type {
  AppendOptions,
  AppendResult,
  EventInput,
  EventShape,
  LoadResult,
  ReadOptions,
  RecordedEvent,
  Snapshot,
} from './types.js';
import { validateInteger, validateName, validateObject } from './validate.js';
import { readLeaseCheck, writeGuarded } from './write.js';

/** One event stream (one aggregate): the API shared by session-less handles and sessions. */
export interface EventStream<E extends EventShape = EventShape> {
  /** The stream's database (partition), aggregate type and id. */
  readonly ref: StreamId;
  /**
   * Appends one or more events as one atomic unit and returns the new version.
   * @example
   * await stream.append({ type: 'Deposited', data: { amount: 10 } }, { expectedVersion: 3 });
   */
  append(
    events: EventInput<E> | readonly EventInput<E>[],
    options?: AppendOptions,
  ): Promise<AppendResult>;
  /** Events in version order: all, a slice `{ from, to }`, or `direction: 'backward'`. */
  read(options?: ReadOptions): Promise<RecordedEvent<E>[]>;
  /** The current version (0 for a stream without events), read in O(1). */
  version(): Promise<number>;
  /** The version of the event appended with this message id. */
  versionOf(messageId: string): Promise<number>;
  /** Saves the state as of `version` (at most the current version). Replaces one at the same version. */
  saveSnapshot<S>(version: number, state: S): Promise<void>;
  latestSnapshot<S = unknown>(): Promise<Snapshot<S> | undefined>;
  /** The snapshot at exactly `version`; `SnapshotVersionNotFoundError` when there is none. */
  snapshotAt<S = unknown>(version: number): Promise<Snapshot<S>>;
  /** Versions that have a snapshot, ascending. */
  snapshotVersions(): Promise<number[]>;
  /** The latest snapshot and the events after it: what rebuilding the state needs. */
  load<S = unknown>(): Promise<LoadResult<E, S>>;
  /**
   * Folds the events after the latest snapshot in chunks of `every` and saves a snapshot
   * at the end of each full chunk. `fold` gets the state so far (the latest snapshot's, or
   * undefined) and the chunk's events, and must return the new state without mutating its
   * input. Returns the versions snapshotted.
   */
  snapshotEvery<S>(
    every: number,
    fold: (state: S | undefined, events: RecordedEvent<E>[]) => S | Promise<S>,
  ): Promise<number[]>;
  /** Deletes the snapshot at `version`; `SnapshotVersionNotFoundError` when there is none. */
  deleteSnapshot(version: number): Promise<void>;
  /** Deletes every snapshot of the stream and returns how many there were. */
  clearSnapshots(): Promise<number>;
  /**
   * A live tail: calls `listener` with each batch of new events, in order, each event once,
   * including events appended by other writers (other tabs, through the backend's change
   * feed; backends without one are polled). Returns a function that stops it. A session
   * handle's subscription keeps running after the session closes: it only reads.
   * @example
   * const stop = stream.subscribe((events) => render(events), { from: 1 });
   */
  subscribe(
    listener: (events: RecordedEvent<E>[]) => void,
    options?: SubscribeOptions,
  ): Unsubscribe;
}

const READ_KEYS = new Set(['from', 'to', 'direction', 'limit']);

export class StreamHandle<E extends EventShape> implements EventStream<E> {
  readonly ref: StreamId;
  protected readonly ctx: Context;
  protected readonly keys: StreamKeys;
  protected readonly guard: Guard;
  readonly #target: AppendTarget;

  /** `ref` holds validated names; `slot` is its keys when the caller has them at hand. */
  constructor(
    ctx: Context,
    ref: StreamId,
    guard: Guard,
    slot: StreamSlot = ctx.slots.slot(ref.database, ref.type, ref.id),
  ) {
    this.ctx = ctx;
    this.ref = ref;
    this.keys = slot.keys;
    this.guard = guard;
    this.#target = {
      ctx,
      stream: ref,
      keys: slot.keys,
      dbKeys: slot.dbKeys,
      guard,
      readKeys: ctx.globalLog ? slot.appendReadsWithLog : slot.appendReads,
    };
  }

  async append(
    events: EventInput<E> | readonly EventInput<E>[],
    options?: AppendOptions,
  ): Promise<AppendResult> {
    const pending = this.guard.assertUsable();
    if (pending) await pending;
    const prepared = prepareAppend(this.ctx, events, options);
    return appendEvents(this.#target, prepared.events, prepared.expected);
  }

  subscribe(
    listener: (events: RecordedEvent<E>[]) => void,
    options?: SubscribeOptions,
  ): Unsubscribe {
    // Reads through a session-less handle, so closing a session does not end its tail.
    const reader = new StreamHandle<E>(this.ctx, this.ref, optimisticGuard(this.ref));
    return subscribe(this.ctx, this.keys.head, reader, listener, options);
  }

  async read(options: ReadOptions = {}): Promise<RecordedEvent<E>[]> {
    await this.guard.assertUsable();
    const opts = validateObject('options', options);
    for (const key in opts) {
      if (!READ_KEYS.has(key))
        throw new InvalidArgumentError(
          `options.${key}`,
          'is not a read option (from, to, direction, limit)',
        );
    }
    const from = options.from === undefined ? 1 : validateInteger('options.from', options.from, 1);
    const to = options.to === undefined ? undefined : validateInteger('options.to', options.to, 1);
    if (to !== undefined && from > to) {
      throw new InvalidArgumentError(
        'options.from',
        `must not be greater than options.to (${from} > ${to})`,
      );
    }
    const limit =
      options.limit === undefined ? undefined : validateInteger('options.limit', options.limit, 1);
    const direction = options.direction ?? 'forward';
    if (direction !== 'forward' && direction !== 'backward') {
      throw new InvalidArgumentError('options.direction', "must be 'forward' or 'backward'");
    }
    return this.readRange(from, to, direction === 'backward', limit);
  }

  /**
   * Reads versions [from, min(to, head)]. The head is read first and bounds the scan, so
   * the result is exactly the events an acknowledged append made visible: a missing or
   * misplaced event in that range is reported as corrupt, never skipped.
   */
  protected async readRange(
    from: number,
    to: number | undefined,
    reverse: boolean,
    limit: number | undefined,
  ): Promise<RecordedEvent<E>[]> {
    let last = 0;
    let expectedCount = 0;
    const entries = await kvGetThenScan(this.ctx, [this.keys.head], ([raw]) => {
      const head = asHead(this.keys.head, raw)?.version ?? 0;
      last = to === undefined ? head : Math.min(to, head);
      if (from > last) return undefined;
      expectedCount = Math.min(last - from + 1, limit ?? Number.POSITIVE_INFINITY);
      return {
        start: this.keys.event(from),
        end: this.keys.event(last + 1),
        reverse,
        limit: expectedCount,
        // Each event's key follows from its version, so the adapter may skip reading keys.
        keys: false,
      };
    });
    if (from > last) return [];
    const out: RecordedEvent<E>[] = new Array(expectedCount);
    const step = reverse ? -1 : 1;
    let version = reverse ? last : from;
    let i = 0;
    const keyOf = (at: number): string => entries[i]?.key || this.keys.event(at);
    for (; i < expectedCount; i++, version += step) {
      const value = entries[i]?.value;
      // A gap shows as a missing entry or, the scan being ordered, as a record whose own
      // version is not the next one: either is reported, under the entry's key, or the
      // expected one's when the adapter answered no keys (built for the error alone).
      const problem = eventProblem(value, version);
      if (problem !== undefined) throw new CorruptRecordError(keyOf(version), version, problem);
      out[i] = decodeEvent(this.ctx, keyOf, value as EventRecord) as RecordedEvent<E>;
    }
    return out;
  }

  async version(): Promise<number> {
    await this.guard.assertUsable();
    return this.currentVersion();
  }

  protected async currentVersion(): Promise<number> {
    const [raw] = await kvGet(this.ctx, [this.keys.head]);
    return asHead(this.keys.head, raw)?.version ?? 0;
  }

  async versionOf(messageId: string): Promise<number> {
    await this.guard.assertUsable();
    const key = this.keys.idempotency(validateName('messageId', messageId));
    const event = await eventUnder(this.ctx, key);
    if (!event) throw new IdempotencyIdNotFoundError(this.ref, messageId);
    return event.version;
  }

  async saveSnapshot<S>(version: number, state: S): Promise<void> {
    await this.guard.assertUsable();
    validateInteger('version', version, 1);
    const payload = encodePayload(
      this.ctx,
      state,
      'state',
      this.ctx.maxSnapshotBytes,
      'maxSnapshotBytes',
    );
    const key = this.keys.snapshot(version);
    await writeGuarded(
      this.ctx,
      this.guard,
      this.keys.lease,
      [this.keys.head],
      ([rawHead], leaseCheck) => {
        const current = asHead(this.keys.head, rawHead)?.version ?? 0;
        if (version > current) throw new VersionNotFoundError(this.ref, version, current);
        const record: SnapshotRecord = {
          version,
          state: payload.value,
          takenAt: this.ctx.clock.now(),
        };
        return {
          checks: [leaseCheck],
          puts: [{ key, value: sealRecord(this.ctx, record, payload.mutable) }],
        };
      },
    );
    log(this.ctx.logger, 'info', 'snapshot.saved', 'snapshot saved', { ...this.ref, version });
  }

  async latestSnapshot<S = unknown>(): Promise<Snapshot<S> | undefined> {
    await this.guard.assertUsable();
    const [entry] = await kvScan(this.ctx, {
      prefix: this.keys.snapshotPrefix,
      reverse: true,
      limit: 1,
    });
    return entry ? this.toSnapshot<S>(entry.key, entry.value) : undefined;
  }

  async snapshotAt<S = unknown>(version: number): Promise<Snapshot<S>> {
    await this.guard.assertUsable();
    validateInteger('version', version, 1);
    const key = this.keys.snapshot(version);
    const [raw] = await kvGet(this.ctx, [key]);
    if (raw === undefined) throw new SnapshotVersionNotFoundError(this.ref, version);
    return decodeSnapshot<S>(this.ctx, key, asSnapshot(key, raw, version));
  }

  async snapshotVersions(): Promise<number[]> {
    await this.guard.assertUsable();
    const entries = await kvScan(this.ctx, { prefix: this.keys.snapshotPrefix });
    return entries.map((entry) => this.snapshotVersionOf(entry.key));
  }

  private snapshotVersionOf(key: string): number {
    const version = decodeNumber(key.slice(this.keys.snapshotPrefix.length));
    if (version === undefined) asSnapshot(key, undefined, Number.NaN);
    return version!;
  }

  private toSnapshot<S>(key: string, raw: unknown): Snapshot<S> {
    return decodeSnapshot<S>(this.ctx, key, asSnapshot(key, raw, this.snapshotVersionOf(key)));
  }

  async load<S = unknown>(): Promise<LoadResult<E, S>> {
    const snapshot = await this.latestSnapshot<S>();
    const events = await this.readRange((snapshot?.version ?? 0) + 1, undefined, false, undefined);
    const version = events.at(-1)?.version ?? snapshot?.version ?? 0;
    return { snapshot, events, version };
  }

  async snapshotEvery<S>(
    every: number,
    fold: (state: S | undefined, events: RecordedEvent<E>[]) => S | Promise<S>,
  ): Promise<number[]> {
    await this.guard.assertUsable();
    validateInteger('every', every, 1);
    if (typeof fold !== 'function') throw new InvalidArgumentError('fold', 'must be a function');
    // Fail on a lock before running the caller's fold for nothing (each save re-checks).
    await readLeaseCheck(this.ctx, this.guard, this.keys.lease);
    return snapshotInChunks(this, every, fold);
  }

  async deleteSnapshot(version: number): Promise<void> {
    await this.guard.assertUsable();
    validateInteger('version', version, 1);
    const key = this.keys.snapshot(version);
    await writeGuarded(this.ctx, this.guard, this.keys.lease, [key], ([raw], leaseCheck) => {
      if (raw === undefined) throw new SnapshotVersionNotFoundError(this.ref, version);
      return { checks: [leaseCheck], deletes: [key] };
    });
  }

  async clearSnapshots(): Promise<number> {
    await this.guard.assertUsable();
    const keys = (await kvScan(this.ctx, { prefix: this.keys.snapshotPrefix })).map((e) => e.key);
    if (keys.length === 0) return 0;
    // Snapshots are derived data, so a backend's per-commit key limit may split this.
    const batch = Math.max(1, (this.ctx.kv.capabilities.maxCommitKeys ?? keys.length + 1) - 1);
    for (let i = 0; i < keys.length; i += batch) {
      const deletes = keys.slice(i, i + batch);
      await writeGuarded(this.ctx, this.guard, this.keys.lease, [], (_, leaseCheck) => ({
        checks: [leaseCheck],
        deletes,
      }));
    }
    log(this.ctx.logger, 'info', 'snapshots.cleared', 'snapshots cleared', {
      ...this.ref,
      count: keys.length,
    });
    return keys.length;
  }
}
