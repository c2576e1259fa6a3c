import type { EventInput, EventShape, KvCheck, RecordedEvent, StreamId } from '@eventkv/core';
import type { Replica } from '@eventkv/core/replica';
import { outboxPrefix, stateKey } from './keys.js';
import type { OutboxEntry, StreamState } from './records.js';

/** A stream's pending appends and its sync state, with the check that they are unchanged. */
export interface PendingStream {
  readonly state: StreamState | undefined;
  readonly stateCheck: KvCheck;
  readonly entries: readonly OutboxEntry[];
  /** Pending events in all entries. */
  readonly count: number;
}

export const readPending = async (replica: Replica, ref: StreamId): Promise<PendingStream> => {
  const key = stateKey(ref);
  const [[raw], rows] = await Promise.all([
    replica.get([key]),
    replica.scan({ prefix: outboxPrefix(ref) }),
  ]);
  const state = raw as StreamState | undefined;
  const entries = rows.map((row) => row.value as OutboxEntry);
  let count = 0;
  for (const entry of entries) count += entry.events.length;
  return {
    state,
    stateCheck: state ? { key, equals: state } : { key, absent: true },
    entries,
    count,
  };
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
