import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { structuredCodec } from './codec/structured.js';
import type { Codec } from './codec/types.js';
import { InvalidArgumentError } from './errors.js';
import type { SessionState } from './guard.js';
import type { IdGenerator } from './ids.js';
import { defaultIdGenerator } from './ids.js';
import { createSlotCache, INDEX_NAMES, type IndexName, type SlotCache } from './keys.js';
import type { Kv } from './kv/types.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { DEFAULT_PAYLOAD_LIMITS } from './payload.js';
import { validateInteger } from './validate.js';

export interface EventStoreOptions {
  /** The storage backend. */
  readonly kv: Kv;
  /** How long a session's lease lasts without `renew()` (default 60 000 ms). */
  readonly sessionTimeoutMs?: number;
  /**
   * How long `open()` keeps retrying while another session holds the stream
   * (default 0: fail at once with `OpenFailedError`).
   */
  readonly openTimeoutMs?: number;
  /** Pause between `open()` retries (default 50 ms). */
  readonly openRetryIntervalMs?: number;
  /** Structured logger (console-compatible). Silent by default. */
  readonly logger?: Logger;
  /** Payload codec (default `structuredCodec`). */
  readonly codec?: Codec;
  /** Time source (default the system clock). */
  readonly clock?: Clock;
  /** Message and session id generator (default `defaultIdGenerator`: random UUIDs). */
  readonly generateId?: IdGenerator;
  /**
   * Keep the database-wide global log (default `true`). Needed by `readLog()` and by
   * every secondary index.
   */
  readonly globalLog?: boolean;
  /**
   * Secondary indexes to keep: `true` (default) for all of `eventType`, `aggregateType`,
   * `user`, `correlation`; `false` for none; or a list.
   */
  readonly indexes?: boolean | readonly IndexName[];
  /** Largest number of events one append may carry (default 1 000). */
  readonly maxEventsPerAppend?: number;
  /** Largest event payload (`data`), in `payloadSize` units (default 256 KiB). */
  readonly maxEventBytes?: number;
  /** Largest total of the payloads of one append (default 1 MiB). */
  readonly maxAppendBytes?: number;
  /** Largest snapshot state (default 1 MiB). */
  readonly maxSnapshotBytes?: number;
}

/** Settings resolved once per store and shared by every handle. */
export interface Context {
  readonly kv: Kv;
  readonly sessionTimeoutMs: number;
  readonly openTimeoutMs: number;
  readonly openRetryIntervalMs: number;
  readonly logger: Logger;
  readonly codec: Codec;
  readonly clock: Clock;
  readonly generateId: IdGenerator;
  readonly globalLog: boolean;
  readonly indexes: ReadonlySet<IndexName>;
  readonly maxEventsPerAppend: number;
  readonly maxEventBytes: number;
  readonly maxAppendBytes: number;
  readonly maxSnapshotBytes: number;
  /** The backend shares stored values with readers: core copies and freezes on write. */
  readonly isolate: boolean;
  /** Payloads are stored unchanged (`codec.identity`): reads decode nothing. */
  readonly passThrough: boolean;
  /** State shared by the handles of each session (`sessionState` in guard.ts). */
  readonly sessions: Map<string, SessionState>;
  /** The keys of recently used streams. */
  readonly slots: SlotCache;
  /**
   * Ids from `generateId` are the built-in generator's (no `generateId` option): UUIDs or
   * hex digits and dashes, valid names that need no escaping in keys, so an append
   * neither validates nor escapes them.
   */
  readonly builtInIds: boolean;
}

export const resolveOptions = (options: EventStoreOptions): Context => {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object with at least { kv }');
  }
  const { kv } = options;
  if (
    typeof kv !== 'object' ||
    kv === null ||
    typeof kv.read !== 'function' ||
    typeof kv.write !== 'function' ||
    typeof kv.capabilities !== 'object'
  ) {
    throw new InvalidArgumentError(
      'options.kv',
      'must implement the Kv contract (read, write, capabilities)',
    );
  }
  const globalLog = options.globalLog ?? true;
  const indexes = new Set<IndexName>(
    options.indexes === false
      ? []
      : options.indexes === true || options.indexes === undefined
        ? INDEX_NAMES
        : options.indexes,
  );
  for (const index of indexes) {
    if (!INDEX_NAMES.includes(index)) {
      throw new InvalidArgumentError(
        'options.indexes',
        `unknown index '${String(index)}' (use ${INDEX_NAMES.join(', ')})`,
      );
    }
  }
  if (indexes.size > 0 && !globalLog) {
    throw new InvalidArgumentError(
      'options.indexes',
      'secondary indexes refer to events by global log position, so they need globalLog: true (or set indexes: false)',
    );
  }
  const codec = options.codec ?? structuredCodec;
  return {
    kv,
    sessionTimeoutMs: validateInteger(
      'options.sessionTimeoutMs',
      options.sessionTimeoutMs ?? 60_000,
      1,
    ),
    openTimeoutMs: validateInteger('options.openTimeoutMs', options.openTimeoutMs ?? 0, 0),
    openRetryIntervalMs: validateInteger(
      'options.openRetryIntervalMs',
      options.openRetryIntervalMs ?? 50,
      1,
    ),
    logger: options.logger ?? silentLogger,
    codec,
    clock: options.clock ?? systemClock,
    generateId: options.generateId ?? defaultIdGenerator,
    globalLog,
    indexes,
    maxEventsPerAppend: validateInteger(
      'options.maxEventsPerAppend',
      options.maxEventsPerAppend ?? 1000,
      1,
    ),
    maxEventBytes: validateInteger(
      'options.maxEventBytes',
      options.maxEventBytes ?? DEFAULT_PAYLOAD_LIMITS.maxEventBytes,
      1,
    ),
    maxAppendBytes: validateInteger(
      'options.maxAppendBytes',
      options.maxAppendBytes ?? DEFAULT_PAYLOAD_LIMITS.maxAppendBytes,
      1,
    ),
    maxSnapshotBytes: validateInteger(
      'options.maxSnapshotBytes',
      options.maxSnapshotBytes ?? DEFAULT_PAYLOAD_LIMITS.maxSnapshotBytes,
      1,
    ),
    isolate: !kv.capabilities.copiesValues,
    passThrough: codec.identity === true,
    sessions: new Map(),
    slots: createSlotCache(),
    builtInIds: options.generateId === undefined,
  };
};
