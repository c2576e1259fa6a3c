import {
  type EventInput,
  type EventShape,
  InvalidArgumentError,
  prepareRemoteAppend,
  type RecordedEvent,
  type StreamId,
} from '@eventkv/core';
import type { Conflict, Decider, SyncContext, SyncedEvent } from './context.js';
import { outboxKey, STATE_PREFIX, stateKey } from './keys.js';
import { pendingEvents, readPending, withCounts } from './outbox.js';
import type { OutboxEntry, StreamState } from './records.js';

/** How the app settles a conflicted stream. */
export type Resolution<E extends EventShape = EventShape> =
  /** Drop the pending events: the edge's history stands. */
  | { readonly discard: true }
  /** Re-decide: the decider gets the conflict and returns the events to push instead. */
  | { readonly rebase: Decider<E> }
  /** A merge of the app's own: these events replace the pending ones. */
  | { readonly events: readonly EventInput<E>[] };

/** The conflict of a stream, or undefined when it has none. */
export const conflictOf = async <E extends EventShape = EventShape>(
  ctx: SyncContext,
  ref: StreamId,
): Promise<Conflict<E> | undefined> => {
  const pending = await readPending(ctx.replica, ref);
  const record = pending.state?.conflict;
  if (!record) return undefined;
  const base = (pending.entries[0]?.from ?? 1) - 1;
  const mirror = ctx.replica.store.stream(ref);
  const head = await mirror.version();
  const theirs = (head > base ? await mirror.read({ from: base + 1 }) : []) as RecordedEvent<E>[];
  const mine = pendingEvents(pending.entries).map((e, i) => ({
    ...e,
    version: base + 1 + i,
  })) as unknown as SyncedEvent<E>[];
  return {
    ref,
    kind: record.kind,
    detectedAt: record.detectedAt,
    ...(record.error === undefined ? {} : { error: record.error }),
    base,
    theirs,
    mine,
    commands: pending.entries.flatMap((entry: OutboxEntry) =>
      entry.events.map((_, i) => (i === 0 ? entry.command : undefined)),
    ),
  };
};

/** Every conflicted stream, oldest first. */
export const listConflicts = async <E extends EventShape = EventShape>(
  ctx: SyncContext,
): Promise<Conflict<E>[]> => {
  const states = await ctx.replica.scan({ prefix: STATE_PREFIX });
  const out: Conflict<E>[] = [];
  for (const { value } of states) {
    const state = value as StreamState;
    if (!state.conflict) continue;
    const conflict = await conflictOf<E>(ctx, state.ref);
    if (conflict) out.push(conflict);
  }
  return out.sort((a, b) => a.detectedAt - b.detectedAt);
};

/**
 * Settles a conflicted stream: its pending events are replaced (by the decider's or the
 * given events, decided on the stream as it now is) or dropped, in one local commit, and
 * the stream syncs again. Returns the events now pending for it.
 */
export const resolveConflict = async <E extends EventShape = EventShape>(
  ctx: SyncContext,
  ref: StreamId,
  resolution: Resolution<E>,
): Promise<number> => {
  if (typeof resolution !== 'object' || resolution === null) {
    throw new InvalidArgumentError(
      'resolution',
      'must be { discard: true }, { rebase } or { events }',
    );
  }
  for (let attempt = 1; ; attempt++) {
    const conflict = await conflictOf<E>(ctx, ref);
    if (!conflict) {
      throw new InvalidArgumentError(
        'ref',
        `stream ${ref.type}/${ref.id} has no conflict to resolve`,
      );
    }
    let events: readonly EventInput<E>[];
    if ('discard' in resolution && resolution.discard === true) events = [];
    else if ('rebase' in resolution && typeof resolution.rebase === 'function') {
      events = await resolution.rebase(conflict);
    } else if ('events' in resolution && Array.isArray(resolution.events))
      events = resolution.events;
    else
      throw new InvalidArgumentError(
        'resolution',
        'must be { discard: true }, { rebase } or { events }',
      );
    const prepared =
      events.length === 0 ? undefined : prepareRemoteAppend<E>(events, {}, ctx.generateId);

    const head = await ctx.replica.head(ref);
    const pending = await readPending(ctx.replica, ref);
    const state = pending.state as StreamState;
    const deletes = pending.entries.map((entry) => outboxKey(ref, entry.n));
    const { conflict: _, deferredUntil: __, ...rest } = state;
    const puts = [];
    if (prepared) {
      const entry: OutboxEntry = {
        ref,
        n: state.next,
        from: head.version + 1,
        events: prepared.events as readonly EventInput<EventShape>[],
        appendedAt: ctx.clock.now(),
      };
      puts.push({ key: outboxKey(ref, state.next), value: entry });
      puts.push({
        key: stateKey(ref),
        value: withCounts({ ...rest, next: state.next + 1 }, entry.events.length, entry.appendedAt),
      });
    } else {
      // Kept, not deleted: entry numbers are never reused.
      puts.push({ key: stateKey(ref), value: withCounts(rest, 0, undefined) });
    }
    try {
      await ctx.replica.commit({ checks: [head.check, pending.stateCheck], puts, deletes });
      return prepared?.events.length ?? 0;
    } catch (error) {
      // The stream moved while the app decided (a pull, another tab): decide again.
      if ((error as { code?: unknown }).code !== 'KV_CONDITION_FAILED' || attempt >= 20)
        throw error;
    }
  }
};
