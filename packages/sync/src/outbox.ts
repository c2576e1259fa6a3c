import type {
  EventInput,
  EventShape,
  KvCheck,
  KvEntry,
  RecordedEvent,
  StreamId,
} from '@eventkv/core';
import type { Replica } from '@eventkv/core/replica';
import { outboxPrefix, STATE_PREFIX, stateKey } from './keys.js';
import type { OutboxEntry, StreamState } from './records.js';

/** A stream's sync state, with the check that it is unchanged, and its pending counts. */
export interface StateView {
  readonly state: StreamState | undefined;
  readonly stateCheck: KvCheck;
  /** Pending events in all entries. */
  readonly count: number;
  /** When the oldest pending entry was appended (undefined: none is pending). */
  readonly since: number | undefined;
}

/** A stream's pending appends and its sync state, with the check that they are unchanged. */
export interface PendingStream extends StateView {
  readonly entries: readonly OutboxEntry[];
}

/** A state whose counts are known. */
export type CountedState = StreamState & { readonly pending: number };

const checkOf = (key: string, state: StreamState | undefined): KvCheck =>
  state ? { key, equals: state } : { key, absent: true };

/** The counts of outbox entries, oldest first. */
const countEntries = (entries: readonly OutboxEntry[]) => {
  let count = 0;
  for (const entry of entries) count += entry.events.length;
  return { count, since: count > 0 ? entries[0]?.appendedAt : undefined };
};

const entriesOf = (rows: readonly KvEntry[]): OutboxEntry[] =>
  rows.map((row) => row.value as OutboxEntry);

/**
 * The state to write: `state` (its counts replaced) with `count` pending events, the
 * oldest appended at `since`. Every writer of a state record writes it through this.
 */
export const withCounts = (
  state: StreamState,
  count: number,
  since: number | undefined,
): CountedState => {
  const { pending: _, since: __, ...rest } = state;
  return count > 0 && since !== undefined
    ? { ...rest, pending: count, since }
    : { ...rest, pending: Math.max(0, count) };
};

const counted = (state: StreamState): state is CountedState => typeof state.pending === 'number';

/**
 * A stream's state and pending counts, without its outbox when the state keeps them (a
 * state written before it did is counted from the outbox).
 */
export const readState = async (replica: Replica, ref: StreamId): Promise<StateView> => {
  const key = stateKey(ref);
  const [raw] = await replica.get([key]);
  const state = raw as StreamState | undefined;
  const stateCheck = checkOf(key, state);
  if (!state) return { state, stateCheck, count: 0, since: undefined };
  if (counted(state)) return { state, stateCheck, count: state.pending, since: state.since };
  const entries = entriesOf(await replica.scan({ prefix: outboxPrefix(ref) }));
  return { state, stateCheck, ...countEntries(entries) };
};

/** A stream's state and all its pending appends, counted from the entries read. */
export const readPending = async (
  replica: Replica,
  ref: StreamId,
  /** Only the first this many entries (the counts then cover those only). */
  limit?: number,
): Promise<PendingStream> => {
  const key = stateKey(ref);
  const [[raw], rows] = await Promise.all([
    replica.get([key]),
    limit === 0
      ? Promise.resolve([])
      : replica.scan({ prefix: outboxPrefix(ref), ...(limit === undefined ? {} : { limit }) }),
  ]);
  const state = raw as StreamState | undefined;
  const entries = entriesOf(rows);
  return { state, stateCheck: checkOf(key, state), entries, ...countEntries(entries) };
};

/**
 * Every stream state, with its counts: one scan of the states. A state written before the
 * counts were kept is counted from its outbox once and stored counted (when it is still
 * the same; a failed write only means the next reader counts it again).
 */
export const readStates = async (replica: Replica): Promise<CountedState[]> => {
  const rows = await replica.scan({ prefix: STATE_PREFIX });
  return Promise.all(
    rows.map(async ({ key, value }) => {
      const state = value as StreamState;
      if (counted(state)) return state;
      const entries = entriesOf(await replica.scan({ prefix: outboxPrefix(state.ref) }));
      const { count, since } = countEntries(entries);
      const next = withCounts(state, count, since);
      await replica
        .commit({ checks: [{ key, equals: state }], puts: [{ key, value: next }] })
        .catch(() => {});
      return next;
    }),
  );
};

/** A pending event as reads show it: its provisional version, not yet confirmed. */
export const pendingEvents = (
  entries: readonly OutboxEntry[],
): (RecordedEvent & { readonly confirmed: false })[] => {
  const out: (RecordedEvent & { readonly confirmed: false })[] = [];
  for (const entry of entries) {
    entry.events.forEach((event: EventInput<EventShape>, i) => {
      const m = event.metadata ?? {};
      const metadata: Record<string, unknown> = {
        messageId: m.messageId,
        schemaVersion: m.schemaVersion ?? 1,
        timestamp: entry.appendedAt,
        aggregateType: entry.ref.type,
        aggregateId: entry.ref.id,
        database: entry.ref.database,
      };
      if (m.userId !== undefined) metadata.userId = m.userId;
      if (m.correlationId !== undefined) metadata.correlationId = m.correlationId;
      if (m.causationId !== undefined) metadata.causationId = m.causationId;
      const recorded: Record<string, unknown> = {
        type: event.type,
        version: entry.from + i,
        metadata,
        confirmed: false,
      };
      if ((event as { data?: unknown }).data !== undefined) {
        recorded.data = (event as { data?: unknown }).data;
      }
      out.push(recorded as unknown as RecordedEvent & { readonly confirmed: false });
    });
  }
  return out;
};
