import { type AppendTarget, type Planned, type PreparedEvent, planAppend } from './append.js';
import { encodePayload } from './encode.js';
import {
  InvalidArgumentError,
  isKvConditionError,
  KvConditionError,
  type StreamId,
  VersionMismatchError,
} from './errors.js';
import type { Guard } from './guard.js';
import { kvCommit, kvGet, kvGetThenScan, kvScan, kvUpdate } from './io.js';
import { databaseKeys, type StreamSlot } from './keys.js';
import type { KvCheck, KvCommit, KvEntry, KvPut, KvScan, KvValue } from './kv/types.js';
import { type EventStoreOptions, resolveOptions } from './options.js';
import { asEvent, asHead } from './records.js';
import { type EventStore, resolveSlot, storeOver } from './store.js';
import type { EventShape, RecordedEvent, StreamRef } from './types.js';
import { validateInteger, validateName } from './validate.js';
import { giveUpAfter } from './write.js';

/**
 * A store that also holds copies of events recorded by another store (an edge it syncs
 * with), written verbatim, and records of its owner's own beside them, committed together
 * with the events when needed. The sync engine is built on it; nothing else needs it.
 *
 * The owner's records live under keys that start with `#`, which no key of the store's own
 * layout does (names are written with `encodeURIComponent`), so they never collide.
 */
export interface Replica<E extends EventShape = EventShape> {
  /** The ordinary store over the same storage. */
  readonly store: EventStore<E>;
  /** The stream's version and the commit check that it is still that version. */
  head(ref: StreamRef): Promise<{ readonly version: number; readonly check: KvCheck }>;
  /**
   * Writes events another store recorded, as it recorded them: their versions, types,
   * data and metadata (message id, timestamp, user, correlation and causation ids, schema
   * version); positions in this store's log are its own. The first event must continue
   * the stream (events already here with the same message id are skipped, so writing the
   * same events twice is harmless). `extra` joins the same commit. Throws
   * `VersionMismatchError` when the stream holds other events at those versions (it
   * diverged) or misses versions before them, and `KvConditionError` when one of
   * `extra`'s checks fails.
   */
  replicate(
    ref: StreamRef,
    events: readonly RecordedEvent[],
    extra?: KvCommit,
  ): Promise<{ readonly version: number }>;
  /**
   * `replicate` for several streams at once, each delivery as `replicate` would write it
   * without `extra`: the deliveries that continue their stream (the common case of a
   * feed) are written by one commit that reads each head and the log head once; the rest
   * (events held already, a gap, a stream named twice, another database) go one by one
   * after it. One outcome per delivery, in order: the version the stream holds after it,
   * or the error `replicate` would have thrown for it.
   */
  replicateMany(deliveries: readonly Delivery[]): Promise<DeliveryOutcome[]>;
  /** The streams of a database that hold events here, in key order. */
  streams(database?: string): Promise<StreamId[]>;
  /** One atomic commit of the owner's records (puts and deletes of `#` keys only). */
  commit(plan: KvCommit): Promise<void>;
  get(keys: readonly string[]): Promise<(KvValue | undefined)[]>;
  scan(range: KvScan): Promise<KvEntry[]>;
}

/** One stream's events for `replicateMany`. */
export interface Delivery {
  readonly ref: StreamRef;
  readonly events: readonly RecordedEvent[];
}

/** What `replicateMany` did with one delivery. */
export type DeliveryOutcome = { readonly version: number } | { readonly error: unknown };

/** Replicated events are the edge's: a local lease never stands in their way. */
const replicaGuard: Guard = {
  assertUsable: () => undefined,
  leaseCheck: (key, lease) => (lease ? { key, equals: lease } : { key, absent: true }),
};

const ownKeys = (plan: KvCommit): void => {
  for (const key of [...(plan.puts ?? []).map((p) => p.key), ...(plan.deletes ?? [])]) {
    if (!key.startsWith('#')) {
      throw new InvalidArgumentError(
        'plan',
        `key '${key}' is not an owner's key (they start with #)`,
      );
    }
  }
};

const merge = (commit: KvCommit, extra: KvCommit | undefined): KvCommit =>
  extra === undefined
    ? commit
    : {
        checks: [...(commit.checks ?? []), ...(extra.checks ?? [])],
        puts: [...(commit.puts ?? []), ...(extra.puts ?? [])],
        deletes: [...(commit.deletes ?? []), ...(extra.deletes ?? [])],
      };

const checkEvents = (events: readonly RecordedEvent[]): void => {
  if (!Array.isArray(events) || events.length === 0) {
    throw new InvalidArgumentError('events', 'must be a non-empty array of recorded events');
  }
  events.forEach((e, i) => {
    validateInteger(`events[${i}].version`, e?.version, 1);
    if (e.version !== (events[0] as RecordedEvent).version + i) {
      throw new InvalidArgumentError(`events[${i}].version`, 'versions must be contiguous');
    }
  });
};

/**
 * A store with replication, over `options` (the same as `createEventStore`'s). The backend
 * must be atomic: replicated events and the owner's records land in one commit.
 * @example
 * const replica = createReplica({ kv: createIndexedDbKv({ name: 'app' }) });
 * await replica.replicate(ref, eventsFromTheEdge, { puts: [{ key: '#sync/cursor', value: cursor }] });
 */
export const createReplica = <E extends EventShape = EventShape>(
  options: EventStoreOptions,
): Replica<E> => {
  const ctx = resolveOptions(options);
  if (!ctx.kv.capabilities.atomic) {
    throw new InvalidArgumentError('options.kv', 'a replica needs an atomic backend');
  }
  const store = storeOver<E>(ctx);

  // No lease is read or checked: replicated events never wait for a local session, and the
  // head check orders them against a local append anyway (a `kv.get` and a check less per
  // delivery in a feed).
  const target = (slot: StreamSlot): AppendTarget => ({
    ctx,
    stream: slot.stream,
    keys: slot.keys,
    dbKeys: slot.dbKeys,
    guard: replicaGuard,
    readKeys: ctx.globalLog ? [slot.keys.head, slot.dbKeys.logHead] : [slot.keys.head],
  });

  /**
   * `planAppend` over the values of `target`'s reads (the head, and the log head with a
   * global log), with no lease: `logHead` stands in for the log head read (a batch chains
   * its streams' positions through it).
   */
  const plan = (
    t: AppendTarget,
    prepared: readonly PreparedEvent[],
    after: number,
    idKeys: readonly string[],
    head: KvValue | undefined,
    logHead: KvValue | undefined,
  ): Planned => {
    const planned = planAppend(t, prepared, after, idKeys, [head, undefined, logHead]);
    if (!('commit' in planned)) return planned;
    const lease = t.keys.lease;
    const checks = (planned.commit.checks ?? []).filter((check) => check.key !== lease);
    return { ...planned, commit: { ...planned.commit, checks } };
  };
  const planValues = (
    t: AppendTarget,
    prepared: readonly PreparedEvent[],
    after: number,
    idKeys: readonly string[],
    values: (KvValue | undefined)[],
  ): Planned => plan(t, prepared, after, idKeys, values[0], values[1]);

  const prepare = (stream: StreamId, recorded: RecordedEvent, i: number): PreparedEvent => {
    const at = (path: string) => `events[${i}]${path}`;
    const m = recorded.metadata;
    if (m.aggregateType !== stream.type || m.aggregateId !== stream.id) {
      throw new InvalidArgumentError(at('.metadata'), 'belongs to another stream');
    }
    const hasData = recorded.data !== undefined;
    const payload = hasData
      ? encodePayload(ctx, recorded.data, at('.data'), Number.POSITIVE_INFINITY, '')
      : { value: undefined, mutable: false, size: 0 };
    return {
      type: validateName(at('.type'), recorded.type),
      hasData,
      data: payload.value,
      mutable: payload.mutable,
      size: payload.size,
      messageId: validateName(at('.metadata.messageId'), m.messageId),
      generated: false,
      schemaVersion: validateInteger(at('.metadata.schemaVersion'), m.schemaVersion, 1),
      userId: m.userId === undefined ? undefined : validateName(at('.metadata.userId'), m.userId),
      correlationId:
        m.correlationId === undefined
          ? undefined
          : validateName(at('.metadata.correlationId'), m.correlationId),
      causationId:
        m.causationId === undefined
          ? undefined
          : validateName(at('.metadata.causationId'), m.causationId),
      timestamp: validateInteger(at('.metadata.timestamp'), m.timestamp, 0),
    };
  };

  /** The events not yet here; throws when the stream holds others at their versions. */
  const missing = async (
    slot: StreamSlot,
    events: readonly RecordedEvent[],
  ): Promise<{ rest: readonly RecordedEvent[]; head: number }> => {
    const first = (events[0] as RecordedEvent).version;
    const last = first + events.length - 1;
    let head = 0;
    const present = await kvGetThenScan(ctx, [slot.keys.head], ([raw]) => {
      head = asHead(slot.keys.head, raw)?.version ?? 0;
      if (head < first) return undefined;
      return { start: slot.keys.event(first), end: slot.keys.event(Math.min(head, last) + 1) };
    });
    if (head < first - 1) throw new VersionMismatchError(slot.stream, first - 1, head);
    for (let i = 0; i < present.length; i++) {
      const entry = present[i] as KvEntry;
      const stored = asEvent(entry.key, entry.value, first + i);
      if (stored.metadata.messageId !== (events[i] as RecordedEvent).metadata.messageId) {
        throw new VersionMismatchError(slot.stream, first - 1, head);
      }
    }
    return { rest: events.slice(present.length), head };
  };

  /**
   * The common case (a copy that is up to date, as a feed is): the stream ends right before
   * `events`, and one transaction reads its head and writes them, with no read of the head
   * ahead of it (a storage call per delivery). The version written, or undefined when the
   * stream is elsewhere, a check lost a race, or an event is not one `prepare` takes: the
   * general path decides those.
   */
  /**
   * Writes `prepared` after version `after` in one transaction that checks the head is
   * still there: the version written, or undefined when the head moved (the caller looks
   * again). A message id held at another version is divergence; a failed check of
   * `extra`'s keys is the caller's, and goes back to it.
   */
  const writeAfter = async (
    slot: StreamSlot,
    prepared: PreparedEvent[],
    after: number,
    extra: KvCommit | undefined,
    extraChecks: ReadonlySet<string>,
  ): Promise<number | undefined> => {
    const t = target(slot);
    const idKeys = prepared.map((e) => slot.keys.idempotency(e.messageId));
    let planned: Planned | undefined;
    try {
      await kvUpdate(ctx, t.readKeys, (values) => {
        planned = planValues(t, prepared, after, idKeys, values);
        return 'commit' in planned ? merge(planned.commit, extra) : undefined;
      });
    } catch (error) {
      if (!isKvConditionError(error)) throw error;
      if (error.keys.some((key) => extraChecks.has(key))) {
        throw new KvConditionError(error.keys.filter((key) => extraChecks.has(key)));
      }
      if (error.keys.some((key) => idKeys.includes(key))) {
        throw new VersionMismatchError(slot.stream, after, after);
      }
      return undefined;
    }
    const outcome = planned as Planned | undefined;
    return outcome !== undefined && 'commit' in outcome ? outcome.result.version : undefined;
  };

  const continueStream = async (
    slot: StreamSlot,
    events: readonly RecordedEvent[],
    extra: KvCommit | undefined,
    extraChecks: ReadonlySet<string>,
  ): Promise<number | undefined> => {
    const first = (events[0] as RecordedEvent).version;
    let prepared: PreparedEvent[];
    try {
      prepared = events.map((e, i) => prepare(slot.stream, e, i));
    } catch {
      return undefined;
    }
    return writeAfter(slot, prepared, first - 1, extra, extraChecks);
  };

  const replicate = (
    ref: StreamRef,
    events: readonly RecordedEvent[],
    extra?: KvCommit,
  ): Promise<{ readonly version: number }> => replica.replicate(ref, events, extra);

  /**
   * The deliveries of `replicateMany` that continue their stream, written by one commit
   * (one `transactionSync` in a Durable Object): each stream's head and the log head read
   * once, positions assigned in the order of the deliveries. Answers the version written
   * by each delivery it wrote; the others (not continuing their stream, or refused by
   * `prepare` or `planAppend`) are left to `replicate`, as is every one of them if the
   * commit fails its checks.
   */
  const writeContinuing = async (
    batch: readonly {
      readonly i: number;
      readonly slot: StreamSlot;
      readonly events: readonly RecordedEvent[];
    }[],
  ): Promise<Map<number, number>> => {
    const logKey = ctx.globalLog
      ? (batch[0] as { slot: StreamSlot }).slot.dbKeys.logHead
      : undefined;
    const keys = batch.map(({ slot }) => slot.keys.head);
    if (logKey !== undefined) keys.push(logKey);
    let written = new Map<number, number>();
    try {
      await kvUpdate(ctx, keys, (values) => {
        written = new Map();
        let logHead = logKey === undefined ? undefined : values[batch.length];
        let logCheck: KvCheck | undefined;
        let logPut: KvPut | undefined;
        const checks: KvCheck[] = [];
        const puts: KvPut[] = [];
        batch.forEach(({ i, slot, events }, j) => {
          let planned: Planned;
          try {
            const t = target(slot);
            const prepared = events.map((e, n) => prepare(slot.stream, e, n));
            const idKeys = prepared.map((e) => slot.keys.idempotency(e.messageId));
            const first = (events[0] as RecordedEvent).version;
            planned = plan(t, prepared, first - 1, idKeys, values[j], logHead);
          } catch {
            return; // `replicate` reports it
          }
          if (!('commit' in planned)) return; // the stream is elsewhere: `replicate` decides
          for (const check of planned.commit.checks ?? []) {
            if (check.key === logKey) logCheck ??= check;
            else checks.push(check);
          }
          for (const put of planned.commit.puts ?? []) {
            if (put.key !== logKey) puts.push(put);
            else {
              logPut = put;
              logHead = put.value;
            }
          }
          written.set(i, planned.result.version);
        });
        if (written.size === 0) return undefined;
        if (logCheck) checks.push(logCheck);
        if (logPut) puts.push(logPut);
        return { checks, puts };
      });
    } catch (error) {
      if (!isKvConditionError(error)) throw error;
      return new Map(); // a message id held elsewhere, or a lost race: one by one
    }
    return written;
  };

  const replica: Replica<E> = {
    store,
    async head(ref) {
      const slot = resolveSlot(ctx, ref);
      const [raw] = await kvGet(ctx, [slot.keys.head]);
      const head = asHead(slot.keys.head, raw);
      return {
        version: head?.version ?? 0,
        check: head ? { key: slot.keys.head, equals: head } : { key: slot.keys.head, absent: true },
      };
    },
    async replicate(ref, events, extra) {
      const slot = resolveSlot(ctx, ref);
      checkEvents(events);
      if (extra) ownKeys(extra);
      const extraChecks = new Set((extra?.checks ?? []).map((c) => c.key));
      const applied = await continueStream(slot, events, extra, extraChecks);
      if (applied !== undefined) return { version: applied };
      for (let attempt = 1; ; attempt++) {
        const { rest, head } = await missing(slot, events);
        if (rest.length === 0) {
          if (extra) await kvCommit(ctx, merge({}, extra));
          return { version: head };
        }
        const prepared = rest.map((e, i) => prepare(slot.stream, e, i));
        const version = await writeAfter(slot, prepared, head, extra, extraChecks);
        if (version !== undefined) return { version };
        giveUpAfter('replicate', attempt); // the head moved since it was read: look again
      }
    },
    async replicateMany(deliveries) {
      if (!Array.isArray(deliveries)) {
        throw new InvalidArgumentError('deliveries', 'must be an array of { ref, events }');
      }
      const outcomes: DeliveryOutcome[] = new Array(deliveries.length);
      const batch: { i: number; slot: StreamSlot; events: readonly RecordedEvent[] }[] = [];
      const oneByOne: number[] = [];
      const seen = new Set<string>();
      // A backend with a limit of keys per commit takes them one by one (the sum may not fit).
      const batching = ctx.kv.capabilities.maxCommitKeys === undefined;
      let database: string | undefined;
      deliveries.forEach((delivery, i) => {
        try {
          const slot = resolveSlot(ctx, (delivery as Delivery | undefined)?.ref as StreamRef);
          checkEvents(delivery.events);
          // A stream named again, or another database's, waits for the one commit: in
          // order after it.
          const again = seen.has(slot.keys.head);
          seen.add(slot.keys.head);
          database ??= slot.stream.database;
          if (!batching || again || slot.stream.database !== database) oneByOne.push(i);
          else batch.push({ i, slot, events: delivery.events });
        } catch (error) {
          outcomes[i] = { error };
        }
      });
      const written = batch.length === 0 ? new Map<number, number>() : await writeContinuing(batch);
      for (const { i } of batch) {
        const version = written.get(i);
        if (version === undefined) oneByOne.push(i);
        else outcomes[i] = { version };
      }
      oneByOne.sort((a, b) => a - b);
      for (const i of oneByOne) {
        const { ref, events } = deliveries[i] as Delivery;
        try {
          outcomes[i] = await replicate(ref, events);
        } catch (error) {
          outcomes[i] = { error };
        }
      }
      return outcomes;
    },
    async streams(database = 'default') {
      const prefix = `${databaseKeys(validateName('database', database)).logPrefix.slice(0, -2)}h/`;
      const heads = await kvScan(ctx, { prefix });
      return heads.map(({ key }) => {
        const [type = '', id = ''] = key.slice(prefix.length).split('/').map(decodeURIComponent);
        return { database, type, id };
      });
    },
    async commit(plan) {
      ownKeys(plan);
      await kvCommit(ctx, plan);
    },
    get: (keys) => kvGet(ctx, keys),
    scan: (range) => kvScan(ctx, range),
  };
  return replica;
};
