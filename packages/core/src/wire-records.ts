import { CorruptRecordError } from './errors.js';
import { toWireJson } from './wire-json.js';

/**
 * Which stored record of an answer cannot be written as wire JSON: data stored before the
 * payload contract existed (a cycle, a class instance) must be reported as the corrupt
 * record it is, naming it, never as an internal error.
 */
const unwritable = (value: unknown, cause: unknown): CorruptRecordError => {
  const why = `it cannot be written as wire JSON (${(cause as Error)?.message ?? String(cause)})`;
  const records: { key: string; version: number; value: unknown }[] = [];
  const add = (record: unknown, kind: 'event' | 'snapshot') => {
    const r = record as { version?: unknown; metadata?: Record<string, unknown> } | undefined;
    if (typeof r?.version !== 'number') return;
    const m = r.metadata;
    const where = m
      ? `${String(m.database)}/${String(m.aggregateType)}/${String(m.aggregateId)}/`
      : '';
    records.push({ key: `${where}${kind}/${r.version}`, version: r.version, value: record });
  };
  const v = value as { events?: unknown; snapshot?: unknown } | undefined;
  if (Array.isArray(v?.events)) for (const event of v.events) add(event, 'event');
  if (v?.snapshot !== undefined) add(v.snapshot, 'snapshot');
  if (records.length === 0) add(value, 'snapshot');
  for (const record of records) {
    try {
      toWireJson(record.value);
    } catch {
      return new CorruptRecordError(record.key, record.version, why, { cause });
    }
  }
  return new CorruptRecordError('response', undefined, why, { cause });
};

/**
 * An answer holding stored records (`{ events, snapshot?, ... }`, a snapshot, any value)
 * as wire JSON (`toWireJson`). What cannot be written is a `CorruptRecordError` naming
 * the first record that cannot (`{database}/{type}/{id}/event/{version}`, or
 * `snapshot/{version}`), else the answer as a whole (`response`). One rule for every
 * side that writes such an answer: the Worker for its responses, and a Durable Object
 * for the text of a read's page, which the Worker sends as it comes.
 */
export const storedToWire = (value: unknown): string => {
  try {
    return toWireJson(value);
  } catch (error) {
    throw unwritable(value, error);
  }
};
