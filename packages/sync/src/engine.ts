import {
  type EventInput,
  type EventShape,
  isKvConditionError,
  isVersionMismatchError,
  payloadSize,
  type RecordedEvent,
  type StreamId,
} from '@eventkv/core';
import { conflictOf } from './conflicts.js';
import { refIn, type SyncContext } from './context.js';
import {
  INFLIGHT_KEY,
  META_KEY,
  outboxKey,
  outboxPrefix,
  STATE_PREFIX,
  STATUS_KEY,
  stateKey,
} from './keys.js';
import { readPending, readState, withCounts } from './outbox.js';
import {
  MAX_PUSH_ENTRIES,
  type PullResponse,
  type PushEntry,
  type StreamKey,
  type StreamResult,
  SYNC_PROTOCOL,
} from './protocol.js';
import type {
  InflightRecord,
  MetaRecord,
  OutboxEntry,
  StatusRecord,
  StreamState,
} from './records.js';

/** A push carries at most this much payload (well under the edge's body limit). */
const MAX_PUSH_BYTES = 512 * 1024;
/** And at most this many events per stream (the edge's per-append limit). */
const MAX_EVENTS_PER_ENTRY = 1000;
/** A stream the edge deferred (a session held it) waits this long before it is pushed again. */
const DEFER_MS = 5_000;
/** Pull pages. */
const PULL_LIMIT = 500;
/** Resets answered in one sync before it stops (a reset persists its cursor: never a loop). */
const MAX_RESETS = 2;
/** Times a stream's bookkeeping is redone when the app's appends keep moving its outbox. */
const MAX_RACES = 20;

/**
 * Runs a step that commits against a stream's outbox state, again while the commit loses
 * to a local append made meanwhile (the app appends while a sync runs): the step reads
 * the state afresh each time, and what the edge answered still holds.
 */
const againOnRace = async <T>(step: () => Promise<T>): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!isKvConditionError(error) || attempt >= MAX_RACES) throw error;
    }
  }
};

/** This replica's identity, made on first use. */
export const ensureMeta = async (ctx: SyncContext): Promise<MetaRecord> => {
  for (;;) {
    const [raw] = await ctx.replica.get([META_KEY]);
    if (raw) return raw as MetaRecord;
    const meta: MetaRecord = { clientId: ctx.generateId(), epoch: 1, seq: 0 };
    try {
      await ctx.replica.commit({
        checks: [{ key: META_KEY, absent: true }],
        puts: [{ key: META_KEY, value: meta }],
      });
      return meta;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'KV_CONDITION_FAILED') throw error;
    }
  }
};

const streamKeyOf = (ref: StreamId): StreamKey => ({ type: ref.type, id: ref.id });

/** The next push: the oldest pending events of each stream that may go, within the limits. */
const buildPush = async (
  ctx: SyncContext,
  meta: MetaRecord,
): Promise<InflightRecord | undefined> => {
  const states = await ctx.replica.scan({ prefix: STATE_PREFIX });
  const now = ctx.clock.now();
  const entries: PushEntry[] = [];
  const covers: { ref: StreamId; numbers: number[] }[] = [];
  let bytes = 0;
  for (const { value } of states) {
    if (entries.length >= MAX_PUSH_ENTRIES) break;
    const state = value as StreamState;
    if (state.conflict || (state.deferredUntil ?? 0) > now) continue;
    // The oldest entries only: each holds at least one event, so no more than this fit.
    const oldest = (
      await ctx.replica.scan({ prefix: outboxPrefix(state.ref), limit: MAX_EVENTS_PER_ENTRY })
    ).map((row) => row.value as OutboxEntry);
    const events: EventInput<EventShape>[] = [];
    const numbers: number[] = [];
    for (const entry of oldest) {
      const size = entry.events.reduce(
        (sum, e) => sum + payloadSize((e as { data?: unknown }).data),
        0,
      );
      const fits =
        events.length + entry.events.length <= MAX_EVENTS_PER_ENTRY &&
        bytes + size <= MAX_PUSH_BYTES;
      // One append always goes, alone if need be: it was checked against the same limits.
      if (!fits && (numbers.length > 0 || entries.length > 0)) break;
      events.push(...entry.events);
      numbers.push(entry.n);
      bytes += size;
    }
    const first = oldest[0];
    if (!first || numbers.length === 0) continue;
    entries.push({ stream: streamKeyOf(state.ref), expectedVersion: first.from - 1, events });
    covers.push({ ref: state.ref, numbers });
    if (bytes >= MAX_PUSH_BYTES) break;
  }
  if (entries.length === 0) return undefined;
  return { epoch: meta.epoch, seq: meta.seq + 1, entries, covers };
};

const sameIds = (
  a: readonly { metadata?: { messageId?: string } }[],
  b: readonly RecordedEvent[],
) => a.length === b.length && a.every((e, i) => e.metadata?.messageId === b[i]?.metadata.messageId);

/**
 * The pending events of a stream once the outbox entries under `dropped` are gone, and
 * when the oldest entry left was appended: reads only those entries and the one after
 * them, not the whole outbox (a push covers a stream's oldest entries).
 */
const remainingAfter = async (
  ctx: SyncContext,
  ref: StreamId,
  count: number,
  dropped: readonly string[],
): Promise<{ count: number; since: number | undefined }> => {
  const [present, first] = await Promise.all([
    ctx.replica.get(dropped),
    ctx.replica.scan({ prefix: outboxPrefix(ref), limit: dropped.length + 1 }),
  ]);
  let left = count;
  for (const entry of present) if (entry) left -= (entry as OutboxEntry).events.length;
  const going = new Set(dropped);
  const oldest = first.find((row) => !going.has(row.key))?.value as OutboxEntry | undefined;
  if (!oldest) return { count: 0, since: undefined };
  if (left > 0) return { count: left, since: oldest.appendedAt };
  // The counts disagree with the outbox (a state not written by this code): count it.
  left = 0;
  for (const row of await ctx.replica.scan({ prefix: outboxPrefix(ref) })) {
    if (!going.has(row.key)) left += (row.value as OutboxEntry).events.length;
  }
  return { count: left, since: oldest.appendedAt };
};

/** Records what the edge answered for one stream; returns the number of events it confirmed. */
const settle = async (
  ctx: SyncContext,
  cover: InflightRecord['covers'][number],
  entry: PushEntry,
  result: StreamResult,
): Promise<number> => {
  const ref = cover.ref;
  const pending = await readState(ctx.replica, ref);
  const state = pending.state ?? { ref, next: 1 };
  const now = ctx.clock.now();
  // The state record stays (its `next` numbers entries: a number is never used twice, so
  // a push re-sent after a crash can only ever name the entries it carried).
  const keepState = (next: StreamState) => ({ puts: [{ key: stateKey(ref), value: next }] });

  if (
    (result.status === 'accepted' || result.status === 'duplicate') &&
    sameIds(entry.events, result.events)
  ) {
    const { conflict: _, deferredUntil: __, ...rest } = state;
    const dropped = cover.numbers.map((n) => outboxKey(ref, n));
    const left = await remainingAfter(ctx, ref, pending.count, dropped);
    await ctx.replica.replicate(ref, result.events, {
      checks: [pending.stateCheck],
      ...keepState(withCounts(rest as StreamState, left.count, left.since)),
      deletes: dropped,
    });
    return result.events.length;
  }
  if (result.status === 'deferred') {
    await ctx.replica.commit({
      checks: [pending.stateCheck],
      puts: [
        {
          key: stateKey(ref),
          value: withCounts(
            { ...state, deferredUntil: now + DEFER_MS },
            pending.count,
            pending.since,
          ),
        },
      ],
    });
    return 0;
  }
  // The edge's events this stream had not seen are confirmed: keep them.
  if (result.status === 'conflict' && result.events.length > 0) {
    await replicateOrDiverge(ctx, ref, result.events);
  }
  const kind =
    result.status === 'conflict'
      ? 'conflict'
      : result.status === 'rejected'
        ? 'rejected'
        : 'diverged';
  // The state as it is now, checked as it is written: an append made since the first read
  // moved its entry counter, and writing the old one back would let the next append reuse
  // (overwrite) that entry.
  const latest = await readState(ctx.replica, ref);
  const conflicted: StreamState = withCounts(
    {
      ...(latest.state ?? state),
      conflict: {
        kind,
        detectedAt: now,
        ...(result.status === 'rejected' ? { error: result.error } : {}),
      },
    },
    latest.count,
    latest.since,
  );
  await ctx.replica.commit({
    checks: [latest.stateCheck],
    puts: [{ key: stateKey(ref), value: conflicted }],
  });
  const conflict = await conflictOf(ctx, ref);
  if (conflict) ctx.emit({ type: 'conflict', conflict });
  return 0;
};

/** Writes the edge's events here; a stream whose copy differs is marked diverged. */
const replicateOrDiverge = async (
  ctx: SyncContext,
  ref: StreamId,
  events: readonly RecordedEvent[],
): Promise<boolean> => {
  try {
    await ctx.replica.replicate(ref, events);
    return true;
  } catch (error) {
    if (!isVersionMismatchError(error)) throw error;
    const pending = await readState(ctx.replica, ref);
    if (pending.state?.conflict?.kind === 'diverged') return false;
    await ctx.replica.commit({
      checks: [pending.stateCheck],
      puts: [
        {
          key: stateKey(ref),
          value: withCounts(
            {
              ...(pending.state ?? { ref, next: 1 }),
              conflict: { kind: 'diverged', detectedAt: ctx.clock.now() },
            },
            pending.count,
            pending.since,
          ),
        },
      ],
    });
    const conflict = await conflictOf(ctx, ref);
    if (conflict) ctx.emit({ type: 'conflict', conflict });
    return false;
  }
};

/**
 * Drops pending appends whose events the edge already holds (this replica pushed them, and
 * a pull brought them back before the push's answer was handled): they are confirmed.
 */
const dropConfirmed = async (ctx: SyncContext, ref: StreamId): Promise<void> => {
  // Most pulled streams have nothing pending here: their state says so without a scan.
  if ((await readState(ctx.replica, ref)).count === 0) return;
  const pending = await readPending(ctx.replica, ref);
  if (pending.entries.length === 0) return;
  const mirror = ctx.replica.store.stream(ref);
  const confirmed: number[] = [];
  let events = 0;
  for (const entry of pending.entries) {
    const first = entry.events[0]?.metadata?.messageId as string;
    let at: number;
    try {
      at = await mirror.versionOf(first);
    } catch {
      break; // entries are in order: the rest are not confirmed either
    }
    const stored = await mirror.read({ from: at, to: at + entry.events.length - 1 });
    if (!sameIds(entry.events, stored)) break;
    confirmed.push(entry.n);
    events += entry.events.length;
  }
  if (confirmed.length === 0) return;
  const state = pending.state ?? { ref, next: (pending.entries.at(-1)?.n ?? 0) + 1 };
  await ctx.replica.commit({
    checks: [pending.stateCheck],
    puts: [
      {
        key: stateKey(ref),
        value: withCounts(
          state,
          pending.count - events,
          pending.entries[confirmed.length]?.appendedAt,
        ),
      },
    ],
    deletes: confirmed.map((n) => outboxKey(ref, n)),
  });
};

/** Pushes until nothing can go; returns how many events the edge confirmed. */
export const pushAll = async (ctx: SyncContext): Promise<number> => {
  let confirmed = 0;
  for (;;) {
    const meta = await ensureMeta(ctx);
    let [inflight] = (await ctx.replica.get([INFLIGHT_KEY])) as (InflightRecord | undefined)[];
    if (!inflight) {
      const built = await buildPush(ctx, meta);
      if (!built) return confirmed;
      // The seq is spent and the push kept before it leaves: a crash re-sends this one.
      await ctx.replica.commit({
        checks: [
          { key: META_KEY, equals: meta },
          { key: INFLIGHT_KEY, absent: true },
        ],
        puts: [
          { key: INFLIGHT_KEY, value: built },
          { key: META_KEY, value: { ...meta, seq: built.seq } },
        ],
      });
      inflight = built;
    }
    const response = await ctx.remote.push({
      protocol: SYNC_PROTOCOL,
      clientId: meta.clientId,
      epoch: inflight.epoch,
      seq: inflight.seq,
      entries: inflight.entries,
    });
    if (response.outcome === 'fenced') {
      // An old copy of this replica, or a restored one: start a new epoch. The pending
      // events go again under it; their message ids keep them from landing twice.
      await ctx.replica.commit({
        checks: [{ key: INFLIGHT_KEY, equals: inflight }],
        puts: [
          {
            key: META_KEY,
            value: { ...meta, epoch: Math.max(meta.epoch, response.epoch) + 1, seq: 0 },
          },
        ],
        deletes: [INFLIGHT_KEY],
      });
      continue;
    }
    if (response.outcome === 'gap') {
      const again: InflightRecord = { ...inflight, seq: response.expectedSeq };
      await ctx.replica.commit({
        checks: [{ key: INFLIGHT_KEY, equals: inflight }],
        puts: [
          { key: INFLIGHT_KEY, value: again },
          { key: META_KEY, value: { ...meta, seq: response.expectedSeq } },
        ],
      });
      continue;
    }
    for (let i = 0; i < inflight.entries.length; i++) {
      const result = response.results[i];
      const entry = inflight.entries[i] as PushEntry;
      const cover = inflight.covers[i] as InflightRecord['covers'][number];
      if (result) confirmed += await againOnRace(() => settle(ctx, cover, entry, result));
    }
    await ctx.replica.commit({
      checks: [{ key: INFLIGHT_KEY, equals: inflight }],
      deletes: [INFLIGHT_KEY],
    });
  }
};

/** The streams a `held`-scope replica pulls: those it has events of, or pending ones. */
const heldStreams = async (ctx: SyncContext): Promise<StreamKey[] | undefined> => {
  if (ctx.scope === 'database') return undefined;
  const held = new Map<string, StreamKey>();
  for (const ref of await ctx.replica.streams(ctx.database))
    held.set(JSON.stringify(ref), streamKeyOf(ref));
  for (const { value } of await ctx.replica.scan({ prefix: STATE_PREFIX })) {
    const ref = (value as StreamState).ref;
    held.set(JSON.stringify(ref), streamKeyOf(ref));
  }
  // Past the protocol's limit, the whole database (a superset) is pulled instead.
  return held.size <= 1000 ? [...held.values()] : undefined;
};

/**
 * Fills a stream's copy here up to (not including) version `before` from the start of the
 * edge's log: pulled events that skip versions belong to a stream this replica began to
 * hold (scope 'held') after its cursor had passed the stream's first events. Returns how
 * many events arrived.
 */
const catchUp = async (
  ctx: SyncContext,
  ref: StreamId,
  serverId: string,
  before: number,
): Promise<number> => {
  let position = 0;
  let arrived = 0;
  for (;;) {
    const { version } = await ctx.replica.head(ref);
    if (version >= before - 1) return arrived;
    const response = await ctx.remote.pull({
      protocol: SYNC_PROTOCOL,
      limit: PULL_LIMIT,
      cursor: { serverId, position },
      streams: [streamKeyOf(ref)],
    });
    // A reset (the edge changed) is the main pull's to answer.
    if ('reset' in response) return arrived;
    const events = response.events.filter((e) => e.version < before);
    if (events.length > 0) {
      if (!(await againOnRace(() => replicateOrDiverge(ctx, ref, events)))) return arrived;
      arrived += events.filter((e) => e.version > version).length;
    }
    position = response.cursor.position;
    if (!response.more) return arrived;
  }
};

/** Pulls until the edge has nothing more; returns how many events arrived. */
export const pullAll = async (ctx: SyncContext): Promise<number> => {
  let pulled = 0;
  let resets = 0;
  const streams = await heldStreams(ctx);
  for (;;) {
    const meta = await ensureMeta(ctx);
    const response: PullResponse = await ctx.remote.pull({
      protocol: SYNC_PROTOCOL,
      limit: PULL_LIMIT,
      ...(meta.cursor === undefined ? {} : { cursor: meta.cursor }),
      ...(streams === undefined ? {} : { streams }),
    });
    if ('reset' in response) {
      // Persisted at once: the next pull starts from the new cursor, never from the old.
      await ctx.replica.commit({
        checks: [{ key: META_KEY, equals: meta }],
        puts: [{ key: META_KEY, value: { ...meta, cursor: response.cursor } }],
      });
      if (++resets >= MAX_RESETS) return pulled;
      continue;
    }
    // Each stream's events in log order, written stream by stream.
    const byStream = new Map<string, { ref: StreamId; events: RecordedEvent[] }>();
    for (const event of response.events) {
      const ref = refIn(ctx.database, {
        type: event.metadata.aggregateType,
        id: event.metadata.aggregateId,
      });
      const key = JSON.stringify(ref);
      const group = byStream.get(key) ?? { ref, events: [] };
      group.events.push(event);
      byStream.set(key, group);
    }
    for (const { ref, events } of byStream.values()) {
      const { version } = await ctx.replica.head(ref);
      const first = (events[0] as RecordedEvent).version;
      if (first > version + 1) pulled += await catchUp(ctx, ref, response.serverId, first);
      if (await againOnRace(() => replicateOrDiverge(ctx, ref, events))) {
        pulled += events.filter((e) => e.version > version).length;
        await againOnRace(() => dropConfirmed(ctx, ref));
      }
    }
    await ctx.replica.commit({
      checks: [{ key: META_KEY, equals: meta }],
      puts: [{ key: META_KEY, value: { ...meta, cursor: response.cursor } }],
    });
    if (!response.more) return pulled;
  }
};

/** Remembers the outcome of a sync for `status()`. */
export const recordOutcome = async (ctx: SyncContext, error?: unknown): Promise<void> => {
  const [raw] = await ctx.replica.get([STATUS_KEY]);
  const status = (raw as StatusRecord | undefined) ?? {};
  const at = ctx.clock.now();
  const next: StatusRecord =
    error === undefined
      ? { ...status, lastSuccessAt: at }
      : {
          ...status,
          lastError: {
            at,
            message: error instanceof Error ? error.message : String(error),
            ...(typeof (error as { code?: unknown })?.code === 'string'
              ? { code: (error as { code: string }).code }
              : {}),
          },
        };
  await ctx.replica.commit({ puts: [{ key: STATUS_KEY, value: next }] });
};
