import { createEventStore, createMemoryKv, defaultIdGenerator } from '@eventkv/core';
import { kvScan } from '@eventkv/core/kv';
import { type Deposit, makeDeposits } from '../../src/subject.js';

/** An event record and a head record exactly as eventkv stores them, to copy from. */
export interface RecordTemplate {
  /** e.g. `default/e/Account/acc-1/0000000000000007`. */
  eventKey(stream: string, version: number): string;
  headKey(stream: string): string;
  /** The record eventkv writes for `deposit` at `version` (same fields, same metadata). */
  event(stream: string, deposit: Deposit, version: number): Record<string, unknown>;
  head(version: number): Record<string, unknown>;
}

const pad = (n: number) => n.toString().padStart(16, '0');

/**
 * Appends one event with eventkv on the in-memory KV and reads back the keys and records
 * it wrote, so the raw floors store the same records under the same keys as eventkv
 * without restating core's layout here.
 */
export const recordTemplate = async (): Promise<RecordTemplate> => {
  const kv = createMemoryKv();
  const store = createEventStore<Deposit>({ kv, globalLog: false, indexes: false });
  const [sample] = makeDeposits(1);
  await store.stream({ type: 'Account', id: 'template' }).append([sample!]);
  const entries = await kvScan(kv, {});
  const find = (part: string) => {
    const entry = entries.find((e) => e.key.includes(part));
    if (entry === undefined) throw new Error(`template: no key with ${part}`);
    return entry;
  };
  const eventEntry = find('/e/Account/template/');
  const headEntry = find('/h/Account/template');
  const db = headEntry.key.slice(0, headEntry.key.indexOf('/h/'));
  const event = structuredClone(eventEntry.value) as Record<string, unknown>;
  const metadata = event.metadata as Record<string, unknown>;
  const head = structuredClone(headEntry.value) as Record<string, unknown>;
  const eventPrefix = (stream: string) => `${db}/e/Account/${stream}/`;
  return {
    eventKey: (stream, version) => eventPrefix(stream) + pad(version),
    headKey: (stream) => `${db}/h/Account/${stream}`,
    event: (stream, deposit, version) => ({
      ...event,
      type: deposit.type,
      data: deposit.data,
      version,
      metadata: {
        ...metadata,
        ...deposit.metadata,
        aggregateId: stream,
        // Made as eventkv makes the ids of events appended without one.
        messageId: defaultIdGenerator(),
        sequenceNumber: version,
        timestamp: Date.now(),
      },
    }),
    head: (version) => ({ ...head, version, timestamp: Date.now() }),
  };
};
