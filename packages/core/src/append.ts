import { encodePayload, sealRecord } from './encode.js';
import {
  DuplicateIdempotencyIdError,
  InvalidArgumentError,
  isKvConditionError,
  type StreamId,
  VersionMismatchError,
} from './errors.js';
import type { Guard } from './guard.js';
import { defaultIdGenerator } from './ids.js';
import { kvGet, kvUpdate } from './io.js';
import { type DatabaseKeys, encodeNumber, joinKey, type StreamKeys } from './keys.js';
import type { KvCheck, KvCommit, KvEntry, KvValue } from './kv/types.js';
import { log } from './logger.js';
import type { Context } from './options.js';
import {
  asEvent,
  asHead,
  asIdempotency,
  asLease,
  asLogHead,
  type EventRecord,
  type PointerRecord,
} from './records.js';
import type { AppendResult, EventMetadata, ExpectedVersion } from './types.js';
import {
  isRecord,
  isValidName,
  validateExpectedVersion,
  validateInteger,
  validateName,
  validateObject,
} from './validate.js';
import { giveUpAfter } from './write.js';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

const EVENT_KEYS = new Set(['type', 'data', 'metadata']);
const METADATA_KEYS = new Set([
  'messageId',
  'schemaVersion',
  'userId',
  'correlationId',
  'causationId',
]);

interface PreparedEvent {
  readonly type: string;
  readonly hasData: boolean;
  readonly data: unknown;
  readonly mutable: boolean;
  /** The payload's size as stored. */
  readonly size: number;
  readonly messageId: string;
  /** The store generated the message id (so it needs no escaping in a key). */
  readonly generated: boolean;
  readonly schemaVersion: number;
  readonly userId: string | undefined;
  readonly correlationId: string | undefined;
  readonly causationId: string | undefined;
  /** When another store recorded it (replication); otherwise the append's time. */
  readonly timestamp?: number;
}

export type { PreparedEvent };

export interface AppendTarget {
  readonly ctx: Context;
  readonly stream: StreamId;
  readonly keys: StreamKeys;
  readonly dbKeys: DatabaseKeys;
  readonly guard: Guard;
  /** What an append reads first: the head, the lease and, with a global log, its head. */
  readonly readKeys: readonly string[];
}

// Field paths ("events[3].metadata.userId") are built only for an error: a valid event
// is checked with predicates, without a string per field.
const at = (i: number, path: string): string => `events[${i}]${path}`;
const nameAt = (value: unknown, i: number, path: string): string =>
  isValidName(value) ? value : validateName(at(i, path), value);
const optionalNameAt = (value: unknown, i: number, path: string): string | undefined =>
  value === undefined ? undefined : nameAt(value, i, path);

const NO_DATA = { value: undefined, mutable: false, size: 0 } as const;

const prepareEvent = (ctx: Context, input: unknown, i: number): PreparedEvent => {
  const event = isRecord(input) ? input : validateObject(at(i, ''), input);
  for (const key in event) {
    if (!EVENT_KEYS.has(key)) {
      throw new InvalidArgumentError(
        at(i, `.${key}`),
        'is not a known event property (events are { type, data?, metadata? })',
      );
    }
  }
  const type = nameAt(event.type, i, '.type');
  const meta =
    event.metadata === undefined
      ? {}
      : isRecord(event.metadata)
        ? event.metadata
        : validateObject(at(i, '.metadata'), event.metadata);
  for (const key in meta) {
    if (!METADATA_KEYS.has(key)) {
      throw new InvalidArgumentError(
        at(i, `.metadata.${key}`),
        `is not a known metadata property (${[...METADATA_KEYS].join(', ')})`,
      );
    }
  }
  const hasData = 'data' in event && event.data !== undefined;
  // The built-in generator's ids (UUIDs, or hex digits and dashes) are valid names and
  // need no escaping in keys by construction: neither check runs for them.
  const builtInId = ctx.generateId === defaultIdGenerator;
  const payload = hasData
    ? encodePayload(ctx, event.data, () => at(i, '.data'), ctx.maxEventBytes, 'maxEventBytes')
    : NO_DATA;
  return {
    type,
    hasData,
    data: payload.value,
    mutable: payload.mutable,
    size: payload.size,
    messageId:
      meta.messageId === undefined
        ? builtInId
          ? ctx.generateId()
          : validateName('generateId()', ctx.generateId())
        : nameAt(meta.messageId, i, '.metadata.messageId'),
    generated: meta.messageId === undefined && builtInId,
    schemaVersion:
      meta.schemaVersion === undefined
        ? 1
        : validateInteger(at(i, '.metadata.schemaVersion'), meta.schemaVersion, 1),
    userId: optionalNameAt(meta.userId, i, '.metadata.userId'),
    correlationId: optionalNameAt(meta.correlationId, i, '.metadata.correlationId'),
    causationId: optionalNameAt(meta.causationId, i, '.metadata.causationId'),
  };
};

export const prepareAppend = (ctx: Context, input: unknown, options: unknown) => {
  const list = Array.isArray(input) ? input : [input];
  if (list.length === 0)
    throw new InvalidArgumentError('events', 'must contain at least one event');
  if (list.length > ctx.maxEventsPerAppend) {
    throw new InvalidArgumentError(
      'events',
      `must contain at most ${ctx.maxEventsPerAppend} events per append (got ${list.length})`,
    );
  }
  const opts = options === undefined ? {} : validateObject('options', options);
  const expected = validateExpectedVersion(opts.expectedVersion);
  const events = list.map((event, i) => prepareEvent(ctx, event, i));
  let total = 0;
  for (const event of events) total += event.size;
  if (total > ctx.maxAppendBytes) {
    throw new InvalidArgumentError(
      'events',
      `carry ${total} bytes of data, more than the limit of ${ctx.maxAppendBytes} per append (maxAppendBytes); append fewer events at a time`,
    );
  }
  if (events.length === 1) return { events, expected };
  const ids = new Set<string>();
  events.forEach((e, i) => {
    if (ids.has(e.messageId)) {
      throw new InvalidArgumentError(
        `events[${i}].metadata.messageId`,
        `'${e.messageId}' appears twice in this append`,
      );
    }
    ids.add(e.messageId);
  });
  return { events, expected };
};

const matches = (expected: ExpectedVersion, current: number): boolean =>
  expected === 'any' ||
  (expected === 'exists' ? current > 0 : (expected === 'no-stream' ? 0 : expected) === current);

/** What a retried or clashing append resolves to, given the message ids already stored. */
const resolveClash = async (
  t: AppendTarget,
  events: readonly PreparedEvent[],
  expected: ExpectedVersion,
  current: number,
): Promise<AppendResult> => {
  const found = (
    await kvGet(
      t.ctx,
      events.map((e) => t.keys.idempotency(e.messageId)),
    )
  ).map((v, i) => asIdempotency(t.keys.idempotency(events[i]!.messageId), v));
  const first = found[0]?.version;
  const exactRetry =
    first !== undefined &&
    found.every((entry, i) => entry?.version === first + i) &&
    (typeof expected === 'number'
      ? first === expected + 1
      : expected === 'no-stream'
        ? first === 1
        : true);
  if (exactRetry) {
    const version = first + events.length - 1;
    const [raw] = await kvGet(t.ctx, [t.keys.event(version)]);
    const last = asEvent(t.keys.event(version), raw, version);
    log(t.ctx.logger, 'info', 'append.deduplicated', 'retried append ignored', {
      ...t.stream,
      version,
    });
    return {
      version,
      firstVersion: first,
      deduplicated: true,
      ...(last.position === undefined ? {} : { position: last.position }),
    };
  }
  const clash = found.findIndex((entry) => entry !== undefined);
  if (clash >= 0) {
    throw new DuplicateIdempotencyIdError(
      t.stream,
      events[clash]!.messageId,
      found[clash]!.version,
    );
  }
  log(t.ctx.logger, 'warn', 'version.mismatch', 'version mismatch', {
    ...t.stream,
    expected,
    actual: current,
  });
  throw new VersionMismatchError(t.stream, expected === 'any' ? current : expected, current);
};

export type Planned =
  | { readonly commit: KvCommit; readonly result: AppendResult }
  | { readonly clash: number };

/**
 * Decides an append from the head, lease and log head as read: the commit to make, or
 * the version that clashes with the expected one. Synchronous, so a backend can run it
 * inside the transaction that read those values (`Kv.update`).
 */
export const planAppend = (
  t: AppendTarget,
  events: readonly PreparedEvent[],
  expected: ExpectedVersion,
  idempotencyKeys: readonly string[],
  [rawHead, rawLease, rawLogHead]: (KvValue | undefined)[],
): Planned => {
  const { ctx, keys, dbKeys, stream } = t;
  const head = asHead(keys.head, rawHead);
  const lease = asLease(keys.lease, rawLease);
  const logHead = ctx.globalLog ? asLogHead(dbKeys.logHead, rawLogHead) : undefined;
  const now = ctx.clock.now();
  const leaseCheck = t.guard.leaseCheck(keys.lease, lease, now);
  const current = head?.version ?? 0;
  if (!matches(expected, current)) return { clash: current };

  const last = events[events.length - 1] as PreparedEvent;
  // Replicated events keep the time they were recorded with; new ones get one time.
  const timestamp = last.timestamp ?? Math.max(now, head?.timestamp ?? 0);
  const firstPosition = (logHead?.position ?? 0) + 1;
  const checks: KvCheck[] = [
    head ? { key: keys.head, equals: head } : { key: keys.head, absent: true },
    leaseCheck,
  ];
  for (const key of idempotencyKeys) checks.push({ key, absent: true });
  const puts: KvEntry[] = [];
  const logPuts: KvEntry[] | undefined = ctx.globalLog ? [] : undefined;
  // The same for every event of this append (one timestamp, one stream).
  const appendTime = ctx.globalLog ? encodeNumber(timestamp) : '';
  const typeIndex =
    ctx.globalLog && ctx.indexes.has('aggregateType')
      ? dbKeys.indexPrefix('aggregateType', stream.type)
      : undefined;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as PreparedEvent;
    const version = current + 1 + i;
    // Optional fields are assigned, not spread: absent stays absent, and the append
    // path allocates no temporary objects for them.
    const metadata: Writable<EventMetadata> = {
      messageId: e.messageId,
      schemaVersion: e.schemaVersion,
      timestamp: e.timestamp ?? timestamp,
      aggregateType: stream.type,
      aggregateId: stream.id,
      database: stream.database,
    };
    if (e.userId !== undefined) metadata.userId = e.userId;
    if (e.correlationId !== undefined) metadata.correlationId = e.correlationId;
    if (e.causationId !== undefined) metadata.causationId = e.causationId;
    const record: Writable<EventRecord> = {
      type: e.type,
      version,
      metadata: sealRecord(ctx, metadata, false),
    };
    if (e.hasData) record.data = e.data;
    if (ctx.globalLog) record.position = firstPosition + i;
    puts.push({ key: keys.event(version), value: sealRecord(ctx, record, e.mutable) });
    puts.push({ key: idempotencyKeys[i] as string, value: { version } });
    if (logPuts !== undefined) {
      const pointer: PointerRecord = { type: stream.type, id: stream.id, version };
      const position = encodeNumber(firstPosition + i);
      const time = e.timestamp === undefined ? appendTime : encodeNumber(e.timestamp);
      const suffix = dbKeys.indexSuffix(time, position);
      const entry = (prefix: string): KvEntry => ({ key: joinKey(prefix, suffix), value: pointer });
      logPuts.push({ key: dbKeys.log(position), value: pointer });
      if (ctx.indexes.has('eventType'))
        logPuts.push(entry(dbKeys.indexPrefix('eventType', e.type)));
      if (typeIndex !== undefined) logPuts.push(entry(typeIndex));
      if (e.userId !== undefined && ctx.indexes.has('user')) {
        logPuts.push(entry(dbKeys.indexPrefix('user', e.userId)));
      }
      if (e.correlationId !== undefined && ctx.indexes.has('correlation')) {
        logPuts.push(entry(dbKeys.indexPrefix('correlation', e.correlationId)));
      }
    }
  }
  const version = current + events.length;
  const lastPosition = ctx.globalLog ? firstPosition + events.length - 1 : undefined;
  if (logPuts !== undefined) puts.push(...logPuts);
  if (lastPosition !== undefined) {
    checks.push(
      logHead ? { key: dbKeys.logHead, equals: logHead } : { key: dbKeys.logHead, absent: true },
    );
    puts.push({ key: dbKeys.logHead, value: { position: lastPosition } });
  }
  // The head goes last: the sequential (non-atomic) path writes in this order.
  puts.push({ key: keys.head, value: { version, timestamp } });

  const max = ctx.kv.capabilities.maxCommitKeys;
  if (max !== undefined && checks.length + puts.length > max) {
    throw new InvalidArgumentError(
      'events',
      `this append of ${events.length} events touches ${checks.length + puts.length} keys, more than ` +
        `the backend's ${max} per commit; append fewer events at a time`,
    );
  }
  if (!ctx.kv.capabilities.atomic) {
    // Written one key at a time, an append must not overwrite the events and log entries
    // a racing append is still writing (it would replace an event that append is about
    // to acknowledge): every key it creates must still be absent when it is written.
    const checked = new Set(checks.map((c) => c.key));
    for (const { key } of puts) if (!checked.has(key)) checks.push({ key, absent: true });
  }
  return {
    commit: { checks, puts },
    result:
      lastPosition === undefined
        ? { version, firstVersion: current + 1, deduplicated: false }
        : { version, firstVersion: current + 1, deduplicated: false, position: lastPosition },
  };
};

export const appendEvents = async (
  t: AppendTarget,
  events: readonly PreparedEvent[],
  expected: ExpectedVersion,
): Promise<AppendResult> => {
  const { ctx, keys, stream } = t;
  const readKeys = t.readKeys;
  const idempotencyKeys = events.map((e) =>
    e.generated ? joinKey(keys.idempotencyPrefix, e.messageId) : keys.idempotency(e.messageId),
  );

  for (let attempt = 1; ; attempt++) {
    const pending = t.guard.assertUsable();
    if (pending) await pending;
    let planned: Planned | undefined;
    try {
      await kvUpdate(ctx, readKeys, (values) => {
        planned = planAppend(t, events, expected, idempotencyKeys, values);
        return 'commit' in planned ? planned.commit : undefined;
      });
    } catch (error) {
      if (!isKvConditionError(error)) throw error;
      const failed = new Set(error.keys);
      if (idempotencyKeys.some((key) => failed.has(key))) {
        const [latest] = await kvGet(ctx, [keys.head]);
        return resolveClash(t, events, expected, asHead(keys.head, latest)?.version ?? 0);
      }
      giveUpAfter('append', attempt);
      // The head, the lease or the log head moved: re-read and decide again. A version
      // or lease conflict is then reported by the checks at the top of the loop.
      continue;
    }
    const outcome = planned as Planned;
    if ('clash' in outcome) return resolveClash(t, events, expected, outcome.clash);
    // Guarded: the fields object is built on every append otherwise, logger or not.
    if (ctx.logger.debug)
      log(ctx.logger, 'debug', 'events.appended', 'events appended', {
        ...stream,
        count: events.length,
        version: outcome.result.version,
      });
    return outcome.result;
  }
};
