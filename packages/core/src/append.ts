import { encodePayload, sealRecord } from './encode.js';
import {
  DuplicateIdempotencyIdError,
  InvalidArgumentError,
  isKvConditionError,
  type StreamId,
  VersionMismatchError,
} from './errors.js';
import { eventUnder } from './event-under.js';
import type { Guard } from './guard.js';
import { kvGet, kvUpdate } from './io.js';
import { type DatabaseKeys, encodeNumber, type StreamKeys } from './keys.js';
import type { KvCheck, KvCommit, KvPut, KvValue } from './kv/types.js';
import { log } from './logger.js';
import type { Context } from './options.js';
import {
  asHead,
  asLease,
  asLogHead,
  type EventRecord,
  type HeadRecord,
  type LogHeadRecord,
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
  const builtInId = ctx.builtInIds;
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
  idempotencyKeys: readonly string[],
  expected: ExpectedVersion,
  current: number,
): Promise<AppendResult> => {
  const found = await Promise.all(idempotencyKeys.map((key) => eventUnder(t.ctx, key)));
  const first = found[0]?.version;
  const exactRetry =
    first !== undefined &&
    found.every((record, i) => record?.version === first + i) &&
    (typeof expected === 'number'
      ? first === expected + 1
      : expected === 'no-stream'
        ? first === 1
        : true);
  if (exactRetry) {
    const last = found[found.length - 1] as EventRecord;
    log(t.ctx.logger, 'info', 'append.deduplicated', 'retried append ignored', {
      ...t.stream,
      version: last.version,
    });
    return {
      version: last.version,
      firstVersion: first,
      deduplicated: true,
      ...(last.position === undefined ? {} : { position: last.position }),
    };
  }
  const clash = found.findIndex((record) => record !== undefined);
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

/** The stream's state as an append reads it: head, lease check, and the log's last position. */
interface AppendState {
  readonly head: HeadRecord | undefined;
  readonly current: number;
  readonly leaseCheck: KvCheck;
  readonly logHead: LogHeadRecord | undefined;
  readonly now: number;
}

const readState = (
  t: AppendTarget,
  [rawHead, rawLease, rawLogHead]: (KvValue | undefined)[],
): AppendState => {
  const { ctx, keys, dbKeys } = t;
  const head = asHead(keys.head, rawHead);
  const now = ctx.clock.now();
  return {
    head,
    current: head?.version ?? 0,
    leaseCheck: t.guard.leaseCheck(keys.lease, asLease(keys.lease, rawLease), now),
    logHead: ctx.globalLog ? asLogHead(dbKeys.logHead, rawLogHead) : undefined,
    now,
  };
};

/** The stored record of one event. */
const eventRecord = (
  ctx: Context,
  stream: StreamId,
  e: PreparedEvent,
  version: number,
  timestamp: number,
  position: number | undefined,
): EventRecord => {
  // Optional fields are assigned, not spread: absent stays absent, and the append path
  // allocates no temporary objects for them.
  const metadata: Writable<EventMetadata> = {
    messageId: e.messageId,
    schemaVersion: e.schemaVersion,
    timestamp,
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
  if (position !== undefined) record.position = position;
  return sealRecord(ctx, record, e.mutable);
};

/**
 * The index keys of one event: its message id, and with the global log its position and
 * the entries of every index the store keeps that the event has a value for.
 * `typeIndex` is the aggregate type's index prefix (the same for the whole append).
 */
const indexKeysOf = (
  ctx: Context,
  dbKeys: DatabaseKeys,
  e: PreparedEvent,
  idempotencyKey: string,
  time: string,
  position: number | undefined,
  typeIndex: string | undefined,
): string[] => {
  if (position === undefined) return [idempotencyKey];
  const at = encodeNumber(position);
  const suffix = dbKeys.indexSuffix(time, at);
  const out = [idempotencyKey, dbKeys.log(at)];
  if (ctx.indexes.has('eventType')) out.push(dbKeys.indexPrefix('eventType', e.type) + suffix);
  if (typeIndex !== undefined) out.push(typeIndex + suffix);
  if (e.userId !== undefined && ctx.indexes.has('user')) {
    out.push(dbKeys.indexPrefix('user', e.userId) + suffix);
  }
  if (e.correlationId !== undefined && ctx.indexes.has('correlation')) {
    out.push(dbKeys.indexPrefix('correlation', e.correlationId) + suffix);
  }
  return out;
};

/** Refuses an append larger than one write of the backend can take, before it is tried. */
const assertFitsOneWrite = (ctx: Context, events: number, commit: KvCommit): void => {
  const max = ctx.kv.capabilities.maxCommitKeys;
  if (max === undefined) return;
  let keys = (commit.checks?.length ?? 0) + (commit.deletes?.length ?? 0);
  for (const put of commit.puts ?? []) keys += 1 + (put.indexKeys?.length ?? 0);
  if (keys > max) {
    throw new InvalidArgumentError(
      'events',
      `this append of ${events} events touches ${keys} keys, more than ` +
        `the backend's ${max} per commit; append fewer events at a time`,
    );
  }
};

/**
 * Decides an append from the head, lease and log head as read: the commit to make, or
 * the version that clashes with the expected one. Synchronous, so a backend can run it
 * inside the transaction that read those values (`Kv.write`).
 */
export const planAppend = (
  t: AppendTarget,
  events: readonly PreparedEvent[],
  expected: ExpectedVersion,
  idempotencyKeys: readonly string[],
  values: (KvValue | undefined)[],
): Planned => {
  const { ctx, keys, dbKeys, stream } = t;
  const state = readState(t, values);
  const { head, current, logHead } = state;
  if (!matches(expected, current)) return { clash: current };

  const last = events[events.length - 1] as PreparedEvent;
  // Replicated events keep the time they were recorded with; new ones get one time.
  const timestamp = last.timestamp ?? Math.max(state.now, head?.timestamp ?? 0);
  const firstPosition = ctx.globalLog ? (logHead?.position ?? 0) + 1 : undefined;
  const checks: KvCheck[] = [
    head ? { key: keys.head, equals: head } : { key: keys.head, absent: true },
    state.leaseCheck,
  ];
  const puts: KvPut[] = [];
  // The same for every event of this append (one timestamp, one stream).
  const appendTime = ctx.globalLog ? encodeNumber(timestamp) : '';
  const typeIndex =
    ctx.globalLog && ctx.indexes.has('aggregateType')
      ? dbKeys.indexPrefix('aggregateType', stream.type)
      : undefined;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as PreparedEvent;
    const version = current + 1 + i;
    const position = firstPosition === undefined ? undefined : firstPosition + i;
    puts.push({
      key: keys.event(version),
      value: eventRecord(ctx, stream, e, version, e.timestamp ?? timestamp, position),
      indexKeys: indexKeysOf(
        ctx,
        dbKeys,
        e,
        idempotencyKeys[i] as string,
        e.timestamp === undefined ? appendTime : encodeNumber(e.timestamp),
        position,
        typeIndex,
      ),
    });
  }
  const version = current + events.length;
  const lastPosition = firstPosition === undefined ? undefined : firstPosition + events.length - 1;
  if (lastPosition !== undefined) {
    checks.push(
      logHead ? { key: dbKeys.logHead, equals: logHead } : { key: dbKeys.logHead, absent: true },
    );
    puts.push({ key: dbKeys.logHead, value: { position: lastPosition } });
  }
  // The head goes last: the sequential (non-atomic) path writes in this order.
  puts.push({ key: keys.head, value: { version, timestamp } });
  if (!ctx.kv.capabilities.atomic) {
    // Written one key at a time, an append must not overwrite the events a racing append
    // is still writing (it would replace an event that append is about to acknowledge):
    // every event key it creates must still be absent when it is written.
    for (let i = 0; i < events.length; i++) {
      checks.push({ key: (puts[i] as KvPut).key, absent: true });
    }
  }
  const commit: KvCommit = { checks, puts };
  assertFitsOneWrite(ctx, events.length, commit);
  return {
    commit,
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
    e.generated ? keys.idempotencyPrefix + e.messageId : keys.idempotency(e.messageId),
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
        return resolveClash(
          t,
          events,
          idempotencyKeys,
          expected,
          asHead(keys.head, latest)?.version ?? 0,
        );
      }
      giveUpAfter('append', attempt);
      // The head, the lease or the log head moved: re-read and decide again. A version
      // or lease conflict is then reported by the checks at the top of the loop.
      continue;
    }
    const outcome = planned as Planned;
    if ('clash' in outcome) {
      return resolveClash(t, events, idempotencyKeys, expected, outcome.clash);
    }
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
