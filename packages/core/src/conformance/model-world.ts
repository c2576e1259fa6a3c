import { expect } from 'vitest';
import type { ErrorCode } from '../errors.js';
import type { IndexName } from '../keys.js';
import type { Kv } from '../kv/types.js';
import type { Session } from '../session.js';
import type { EventStore } from '../store.js';
import type { EventStream } from '../stream.js';
import { createFaultyKv, type Fault, type FaultyKv, InjectedFault } from '../testing/faulty-kv.js';
import type { ManualClock } from '../testing/manual-clock.js';
import type { AppendResult, EventInput, ExpectedVersion, RecordedEvent } from '../types.js';
import type { BankEvent, Harness } from './harness.js';

/**
 * The reference model of the model-based tests: what the store must contain after any
 * sequence of operations, kept as plain arrays and maps, and the real system it is
 * compared with (several stores over one fault-injecting KV and one manual clock).
 */

export const SESSION_TIMEOUT_MS = 1_000;
export const WRITERS = 3;

export interface StreamDef {
  readonly database: string;
  readonly type: string;
  readonly id: string;
}

/**
 * Two streams of one aggregate type and one of another share the default database (and
 * so its global log and indexes); the second database holds a namesake of the first
 * stream, whose keys, log and indexes must stay apart from it.
 */
export const STREAMS: readonly StreamDef[] = [
  { database: 'default', type: 'Account', id: 'a' },
  { database: 'default', type: 'Account', id: 'b' },
  { database: 'default', type: 'Ledger', id: 'a' },
  { database: 'tenant-b', type: 'Account', id: 'a' },
];
export const DATABASES: readonly string[] = ['default', 'tenant-b'];

export const INDEX_VALUES: Readonly<Record<IndexName, readonly string[]>> = {
  eventType: ['AccountOpened', 'Deposited', 'Withdrawn', 'AccountClosed'],
  aggregateType: ['Account', 'Ledger'],
  user: ['u1', 'u2'],
  correlation: ['c1', 'c2'],
};

/** What the generator decides about one event; its message id is assigned when it runs. */
export interface EventSpec {
  readonly kind: number;
  readonly amount: number;
  readonly user: number | undefined;
  readonly correlation: number | undefined;
  readonly caused: boolean;
}

export interface DraftMetadata {
  readonly messageId: string;
  readonly userId?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
}

/** An event as appended: payload plus the metadata the caller sets. */
export interface Draft {
  readonly event: BankEvent;
  readonly meta: DraftMetadata;
}

export interface StoredEvent {
  readonly draft: Draft;
  readonly version: number;
  readonly position: number;
  readonly timestamp: number;
}

export interface Lease {
  readonly sessionId: string;
  readonly expiresAt: number;
  readonly timeoutMs: number;
}

export interface SnapshotState {
  readonly tag: number;
  readonly at: Date;
}

export interface ModelSnapshot {
  readonly state: SnapshotState;
  readonly takenAt: number;
}

export interface ModelStream {
  readonly def: StreamDef;
  readonly events: StoredEvent[];
  /** Message id -> version. */
  readonly ids: Map<string, number>;
  readonly snapshots: Map<number, ModelSnapshot>;
  /** The lease record in storage (it outlives its session until someone replaces it). */
  lease: Lease | undefined;
}

/** What a session handle knows about itself. */
export interface ModelSession {
  readonly sessionId: string;
  readonly stream: number;
  expiresAt: number;
  closed: boolean;
  /** A close() went through; until then a later close() tries to release the lease again. */
  released: boolean;
}

export interface LogEntry {
  readonly stream: number;
  readonly version: number;
}

/**
 * An append that failed with a storage error after it might have applied: the caller
 * cannot tell, so the model keeps both possibilities until a retry with the same message
 * ids tells them apart. Until then nothing else may append to its database (positions
 * there would depend on it), and its stream is not read.
 */
export interface Pending {
  readonly stream: number;
  readonly drafts: readonly Draft[];
  readonly expected: ExpectedVersion;
  /** The timestamp its events carry if it did apply. */
  readonly timestamp: number;
}

export interface Attempt {
  readonly stream: number;
  readonly drafts: readonly Draft[];
}

export interface Model {
  /** The clock's reading at the start: query windows are placed relative to it. */
  readonly start: number;
  now: number;
  readonly streams: ModelStream[];
  readonly logs: Map<string, LogEntry[]>;
  /** `[writer][stream]`: the session handle each writer holds, if any. */
  readonly sessions: (ModelSession | undefined)[][];
  /** Handles replaced by a newer session of the same writer, still around to misuse. */
  readonly retired: ModelSession[];
  readonly pending: Map<string, Pending>;
  /** Every append tried so far, for retries and clashing message ids. */
  readonly attempts: Attempt[];
  /** Ids generated so far per writer (only `open` generates one). */
  readonly generated: number[];
  nextMessage: number;
  nextTag: number;
}

export interface Real {
  /** The adapter's KV itself: faults are never armed on it, so checks read it safely. */
  readonly inner: Kv;
  readonly kv: FaultyKv;
  readonly clock: ManualClock;
  readonly stores: readonly EventStore<BankEvent>[];
  /** A store over `inner`, for the invariant checks and for resolving faulted writes. */
  readonly observer: EventStore<BankEvent>;
  readonly sessions: (Session<BankEvent> | undefined)[][];
  readonly retired: Session<BankEvent>[];
}

export interface World {
  readonly model: Model;
  readonly real: Real;
}

const grid = <T>(): (T | undefined)[][] =>
  Array.from({ length: WRITERS }, () => STREAMS.map((): T | undefined => undefined));

export const createWorld = (h: Harness): World => {
  const kv = createFaultyKv(h.kv);
  const stores = Array.from({ length: WRITERS }, (_, w) => {
    let n = 0;
    return h.store<BankEvent>({
      kv,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      generateId: () => `w${w}-${++n}`,
    });
  });
  const model: Model = {
    start: h.clock.now(),
    now: h.clock.now(),
    streams: STREAMS.map((def) => ({
      def,
      events: [],
      ids: new Map(),
      snapshots: new Map(),
      lease: undefined,
    })),
    logs: new Map(DATABASES.map((db) => [db, []])),
    sessions: grid<ModelSession>(),
    retired: [],
    pending: new Map(),
    attempts: [],
    generated: stores.map(() => 0),
    nextMessage: 0,
    nextTag: 0,
  };
  const real: Real = {
    inner: h.kv,
    kv,
    clock: h.clock,
    stores,
    observer: h.store<BankEvent>({ kv: h.kv }),
    sessions: grid<Session<BankEvent>>(),
    retired: [],
  };
  return { model, real };
};

export const streamOf = (m: Model, st: number): ModelStream => m.streams[st]!;
export const logOf = (m: Model, db: string): LogEntry[] => m.logs.get(db)!;

const EVENT_TYPES = ['AccountOpened', 'Deposited', 'Withdrawn', 'AccountClosed'] as const;

export const bankEvent = (spec: EventSpec): BankEvent => {
  const type = EVENT_TYPES[spec.kind % EVENT_TYPES.length]!;
  switch (type) {
    case 'AccountOpened':
      return {
        type,
        data: { owner: `owner-${spec.amount}`, currency: 'EUR', openedAt: new Date(spec.amount) },
      };
    case 'AccountClosed':
      return { type };
    default:
      return { type, data: { amount: spec.amount } };
  }
};

export const draftOf = (spec: EventSpec, messageId: string): Draft => ({
  event: bankEvent(spec),
  meta: {
    messageId,
    ...(spec.user === undefined ? {} : { userId: INDEX_VALUES.user[spec.user]! }),
    ...(spec.correlation === undefined
      ? {}
      : { correlationId: INDEX_VALUES.correlation[spec.correlation]! }),
    ...(spec.caused ? { causationId: 'cause-1' } : {}),
  },
});

export const toInput = (d: Draft): EventInput<BankEvent> =>
  ({ ...d.event, metadata: d.meta }) as EventInput<BankEvent>;

/** The event as every read must return it. */
export const recorded = (def: StreamDef, e: StoredEvent): RecordedEvent<BankEvent> =>
  ({
    ...e.draft.event,
    version: e.version,
    position: e.position,
    metadata: {
      ...e.draft.meta,
      schemaVersion: 1,
      timestamp: e.timestamp,
      aggregateType: def.type,
      aggregateId: def.id,
      database: def.database,
    },
  }) as RecordedEvent<BankEvent>;

export const recordedAt = (m: Model, entry: LogEntry): RecordedEvent<BankEvent> => {
  const stream = streamOf(m, entry.stream);
  return recorded(stream.def, stream.events[entry.version - 1]!);
};

export const indexValue = (
  def: StreamDef,
  e: StoredEvent,
  index: IndexName,
): string | undefined => {
  switch (index) {
    case 'eventType':
      return e.draft.event.type;
    case 'aggregateType':
      return def.type;
    case 'user':
      return e.draft.meta.userId;
    case 'correlation':
      return e.draft.meta.correlationId;
  }
};

/** The events an index must return for a value within [since, until), in index order. */
export const indexed = (
  m: Model,
  db: string,
  index: IndexName,
  value: string,
  since = 0,
  until = Number.POSITIVE_INFINITY,
): RecordedEvent<BankEvent>[] =>
  logOf(m, db)
    .map((entry) => {
      const stream = streamOf(m, entry.stream);
      return { def: stream.def, event: stream.events[entry.version - 1]! };
    })
    .filter(
      ({ def, event }) =>
        indexValue(def, event, index) === value &&
        event.timestamp >= since &&
        event.timestamp < until,
    )
    .sort((a, b) => a.event.timestamp - b.event.timestamp || a.event.position - b.event.position)
    .map(({ def, event }) => recorded(def, event));

// --- What the store must answer -----------------------------------------------------

/** An error the store must throw: its code and the context fields it must carry. */
export type Expectation = { readonly code: ErrorCode } & Readonly<Record<string, unknown>>;

/** Why a session handle cannot be used at all (closed, or past its own expiry). */
export const unusable = (m: Model, s: ModelSession | undefined): Expectation | undefined => {
  if (!s) return undefined;
  if (s.closed) return { code: 'NOT_OPEN', sessionId: s.sessionId };
  if (m.now >= s.expiresAt) {
    return { code: 'SESSION_EXPIRED', sessionId: s.sessionId, expiredAt: s.expiresAt };
  }
  return undefined;
};

/** Why the lease refuses a write through this handle (no session: a session-less one). */
export const leaseRefusal = (
  m: Model,
  stream: ModelStream,
  s: ModelSession | undefined,
): Expectation | undefined => {
  const lease = stream.lease;
  if (!s) {
    return lease && lease.expiresAt > m.now
      ? { code: 'STREAM_LOCKED', lockedUntil: lease.expiresAt }
      : undefined;
  }
  if (lease?.sessionId !== s.sessionId) {
    return { code: 'INVALID_SESSION', sessionId: s.sessionId, holder: lease?.sessionId };
  }
  return undefined;
};

export const writeRefusal = (
  m: Model,
  stream: ModelStream,
  s: ModelSession | undefined,
): Expectation | undefined => unusable(m, s) ?? leaseRefusal(m, stream, s);

export type AppendPrediction =
  | { readonly kind: 'error'; readonly error: Expectation }
  | { readonly kind: 'dedup'; readonly result: AppendResult }
  | { readonly kind: 'apply'; readonly result: AppendResult; readonly timestamp: number };

const satisfied = (expected: ExpectedVersion, current: number): boolean => {
  if (expected === 'any') return true;
  if (expected === 'exists') return current > 0;
  return (expected === 'no-stream' ? 0 : expected) === current;
};

/**
 * The outcome the spec gives an append: refused by the session rules; a no-op returning
 * the stored versions when it is an exact retry (same ids at consecutive versions, where
 * its expected version put them); a duplicate-id error when an id names another event; a
 * version mismatch carrying the actual version; otherwise new versions after the head.
 */
export const predictAppend = (
  m: Model,
  st: number,
  drafts: readonly Draft[],
  expected: ExpectedVersion,
  s: ModelSession | undefined,
): AppendPrediction => {
  const stream = streamOf(m, st);
  const refusal = writeRefusal(m, stream, s);
  if (refusal) return { kind: 'error', error: refusal };
  const current = stream.events.length;
  const found = drafts.map((d) => stream.ids.get(d.meta.messageId));
  if (!satisfied(expected, current) || found.some((v) => v !== undefined)) {
    const first = found[0];
    const placed =
      typeof expected === 'number'
        ? first === expected + 1
        : expected === 'no-stream'
          ? first === 1
          : true;
    if (first !== undefined && placed && found.every((v, i) => v === first + i)) {
      const version = first + drafts.length - 1;
      const position = stream.events[version - 1]!.position;
      return {
        kind: 'dedup',
        result: { version, firstVersion: first, deduplicated: true, position },
      };
    }
    const clash = found.findIndex((v) => v !== undefined);
    if (clash >= 0) {
      return {
        kind: 'error',
        error: {
          code: 'DUPLICATE_IDEMPOTENCY_ID',
          messageId: drafts[clash]!.meta.messageId,
          existingVersion: found[clash],
        },
      };
    }
    return { kind: 'error', error: { code: 'VERSION_MISMATCH', expected, actual: current } };
  }
  const n = drafts.length;
  const position = logOf(m, stream.def.database).length + n;
  const timestamp = Math.max(m.now, stream.events.at(-1)?.timestamp ?? 0);
  return {
    kind: 'apply',
    result: { version: current + n, firstVersion: current + 1, deduplicated: false, position },
    timestamp,
  };
};

export const applyAppend = (
  m: Model,
  st: number,
  drafts: readonly Draft[],
  timestamp: number,
): void => {
  const stream = streamOf(m, st);
  const log = logOf(m, stream.def.database);
  for (const draft of drafts) {
    const version = stream.events.length + 1;
    stream.events.push({ draft, version, position: log.length + 1, timestamp });
    stream.ids.set(draft.meta.messageId, version);
    log.push({ stream: st, version });
  }
};

/**
 * Deep equality of the values these tests compare: plain objects (an undefined property
 * is not a missing one), arrays, Dates and Maps.
 */
export const deepEqual = (a: unknown, b: unknown): boolean => {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i]));
  }
  if (a instanceof Map) {
    const other = b as Map<unknown, unknown>;
    return a.size === other.size && [...a].every(([k, v]) => deepEqual(v, other.get(k)));
  }
  const ka = Object.keys(a);
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return (
    ka.length === Object.keys(b).length &&
    ka.every((k) => Object.hasOwn(rb, k) && deepEqual(ra[k], rb[k]))
  );
};

/**
 * `expect(actual).toStrictEqual(expected)`, with a fast path: the invariants run after
 * every command, and the matcher alone would take most of the run time.
 */
export const same = (actual: unknown, expected: unknown): void => {
  if (!deepEqual(actual, expected)) expect(actual).toStrictEqual(expected);
};

// --- Running operations against the real system -------------------------------------

export type Outcome<T> =
  | { readonly ok: true; readonly value: T; readonly faulted: false }
  | { readonly ok: false; readonly error: unknown; readonly faulted: boolean };

/** The storage failure an injected fault turns into. */
const isInjected = (error: unknown): boolean =>
  (error as { code?: unknown }).code === 'STORAGE_FAILURE' &&
  (error as { cause?: unknown }).cause instanceof InjectedFault;

/**
 * Runs `op` with `fault` armed (disarmed afterwards, fired or not). `faulted` means the
 * caller got the injected failure, so the outcome is unknown for a write. A fault that
 * fired without reaching the caller (an operation that failed by itself first, or an
 * error core handled) changes nothing: that outcome is checked like any other.
 */
export const attempt = async <T>(
  r: Real,
  fault: Fault | undefined,
  op: () => Promise<T>,
): Promise<Outcome<T>> => {
  const before = r.kv.fired;
  if (fault) r.kv.inject(fault);
  try {
    const value = await op();
    return { ok: true, value, faulted: false };
  } catch (error) {
    const faulted = r.kv.fired > before && isInjected(error);
    return { ok: false, error, faulted };
  } finally {
    r.kv.heal();
  }
};

const describeOutcome = (outcome: Outcome<unknown>): string =>
  outcome.ok ? `success ${JSON.stringify(outcome.value)}` : String(outcome.error);

export const expectFailure = (outcome: Outcome<unknown>, expected: Expectation): void => {
  if (outcome.ok) {
    throw new Error(`expected ${expected.code}, got ${describeOutcome(outcome)}`);
  }
  expect(outcome.error).toMatchObject(expected);
};

export const expectValue = <T>(outcome: Outcome<T>, expected: unknown): void => {
  if (!outcome.ok) throw new Error(`expected success, got ${describeOutcome(outcome)}`);
  same(outcome.value, expected);
};

/** Checks an outcome against a prediction: `expected` is an error, or the value. */
export const expectOutcome = <T>(
  outcome: Outcome<T>,
  expected: { readonly error: Expectation } | { readonly value: unknown },
): void => {
  if ('error' in expected) expectFailure(outcome, expected.error);
  else expectValue(outcome, expected.value);
};

/** The handle an operation goes through: the writer's session, or a session-less one. */
export const handleOf = (
  m: Model,
  r: Real,
  writer: number,
  st: number,
  viaSession: boolean,
): { model: ModelSession | undefined; real: EventStream<BankEvent> } => {
  if (viaSession) {
    return { model: m.sessions[writer]![st], real: r.sessions[writer]![st]! };
  }
  return { model: undefined, real: r.stores[writer]!.stream(STREAMS[st]!) };
};

/** Appends are blocked while one of unknown outcome is pending on the stream's database. */
export const isFrozen = (m: Readonly<Model>, st: number): boolean =>
  m.pending.has(STREAMS[st]!.database);

/** The stream itself is not read while an append of unknown outcome is pending on it. */
export const isPendingOn = (m: Readonly<Model>, st: number): boolean =>
  m.pending.get(STREAMS[st]!.database)?.stream === st;

export interface Slot {
  readonly writer: number;
  readonly stream: number;
}

/** The (writer, stream) pairs holding a session handle, optionally on one stream only. */
export const heldSlots = (m: Readonly<Model>, st?: number): Slot[] => {
  const out: Slot[] = [];
  m.sessions.forEach((row, writer) => {
    row.forEach((s, stream) => {
      if (s && (st === undefined || st === stream)) out.push({ writer, stream });
    });
  });
  return out;
};

/** Picks a held session by index, so session commands rarely miss. */
export const pickSlot = (m: Readonly<Model>, pick: number, st?: number): Slot | undefined => {
  const slots = heldSlots(m, st);
  return slots.length === 0 ? undefined : slots[pick % slots.length];
};
