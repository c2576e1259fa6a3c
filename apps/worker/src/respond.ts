import { SESSION_HEADER, toWire } from '@eventkv/client';
import { CorruptRecordError, type EventStream, type StreamRef } from '@eventkv/core';
import type { Context } from 'hono';
import type { ApiEnv } from './context.js';

/**
 * Which stored record of a response cannot be written as wire JSON: data stored before the
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
      toWire(record.value);
    } catch {
      return new CorruptRecordError(record.key, record.version, why, { cause });
    }
  }
  return new CorruptRecordError('response', undefined, why, { cause });
};

/** A wire JSON response body. */
export const wire = (
  value: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response => {
  let text: string;
  try {
    text = toWire(value);
  } catch (error) {
    throw unwritable(value, error);
  }
  return new Response(text, {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
};

/** The stream a route addresses, in the token's database. */
export const refOf = (c: Context<ApiEnv>): StreamRef => ({
  database: c.get('principal').database,
  type: c.req.param('type') ?? '',
  id: c.req.param('id') ?? '',
});

/**
 * The handle a stream route acts through: the session named by `Eventkv-Session`
 * (resumed from its lease, so any isolate can serve it), or a session-less handle.
 */
export const streamOf = async (c: Context<ApiEnv>): Promise<EventStream> => {
  const sessionId = c.req.header(SESSION_HEADER);
  const ref = refOf(c);
  return sessionId === undefined
    ? c.get('store').stream(ref)
    : c.get('store').resume(ref, sessionId);
};
