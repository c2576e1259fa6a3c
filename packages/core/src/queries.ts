import { decodeEvent } from './encode.js';
import { CorruptRecordError, InvalidArgumentError } from './errors.js';
import { kvGet, kvGetThenScan } from './io.js';
import {
  type DatabaseKeys,
  databaseKeys,
  decodeNumber,
  encodeNumber,
  INDEX_NAMES,
  type IndexName,
} from './keys.js';
import type { KvEntry } from './kv/types.js';
import type { Context } from './options.js';
import { asEvent, asLogHead } from './records.js';
import type {
  EventShape,
  QueryOptions,
  QueryPage,
  ReadLogOptions,
  RecordedEvent,
} from './types.js';
import { validateInteger, validateName, validateObject, validateTime } from './validate.js';

const MAX_PAGE = 1000;

const pageSize = (limit: unknown): number => {
  const n = limit === undefined ? 100 : validateInteger('options.limit', limit, 1);
  if (n > MAX_PAGE) throw new InvalidArgumentError('options.limit', `must be at most ${MAX_PAGE}`);
  return n;
};

/**
 * The events found under log or index keys (scanned `by: 'index'`), checked: each must be
 * an event at the position its index key ends with, else the data is damaged.
 */
const eventsOf = <E extends EventShape>(
  ctx: Context,
  entries: readonly KvEntry[],
): RecordedEvent<E>[] =>
  entries.map((entry) => {
    const indexKey = entry.indexKey as string;
    const position = positionFromKey(indexKey);
    const value = entry.value as { version?: unknown } | null;
    const version = typeof value?.version === 'number' ? value.version : undefined;
    if (version === undefined) {
      throw new CorruptRecordError(indexKey, undefined, 'names a record that is not an event');
    }
    const record = asEvent(entry.key, entry.value, version);
    if (record.position !== position) {
      throw new CorruptRecordError(
        indexKey,
        version,
        `names an event at position ${String(record.position)}`,
      );
    }
    return decodeEvent(ctx, entry.key, record) as RecordedEvent<E>;
  });

/** The position a log or index key ends with; a key that does not is corrupt. */
const positionFromKey = (key: string): number => {
  const position = decodeNumber(key.slice(key.lastIndexOf('/') + 1));
  if (position === undefined)
    throw new CorruptRecordError(key, undefined, 'key does not end with a position');
  return position;
};

export const queryIndex = async <E extends EventShape>(
  ctx: Context,
  index: IndexName,
  value: string,
  options: QueryOptions = {},
): Promise<QueryPage<E>> => {
  if (!INDEX_NAMES.includes(index)) {
    throw new InvalidArgumentError(
      'index',
      `must be one of ${INDEX_NAMES.join(', ')} (got ${String(index)})`,
    );
  }
  if (!ctx.indexes.has(index)) {
    throw new InvalidArgumentError(
      'index',
      `'${index}' is not kept by this store (see the indexes option)`,
    );
  }
  validateName('value', value);
  validateObject('options', options);
  const database =
    options.database === undefined ? 'default' : validateName('options.database', options.database);
  const since = validateTime('options.since', options.since);
  const until = validateTime('options.until', options.until);
  if (since !== undefined && until !== undefined && since > until) {
    throw new InvalidArgumentError('options.since', 'must not be after options.until');
  }
  const limit = pageSize(options.limit);
  const keys: DatabaseKeys = databaseKeys(database);
  const prefix = keys.indexPrefix(index, value);
  let start = prefix + encodeNumber(since ?? 0);
  if (options.cursor !== undefined) {
    if (typeof options.cursor !== 'string' || !options.cursor.startsWith(prefix)) {
      throw new InvalidArgumentError(
        'options.cursor',
        'does not belong to this query (pass the cursor of its previous page)',
      );
    }
    // Keys are printable ASCII and no key extends another index key, so nothing lies
    // between the cursor's key and the cursor followed by a space: the page starts after it.
    if (options.cursor >= start) start = `${options.cursor} `;
  }
  // The log head first, then the range, in one read where the backend can.
  let head = 0;
  const entries = await kvGetThenScan(ctx, [keys.logHead], ([raw]) => {
    head = asLogHead(keys.logHead, raw)?.position ?? 0;
    return {
      by: 'index',
      prefix,
      start,
      ...(until === undefined ? {} : { end: prefix + encodeNumber(until) }),
      limit: limit + 1,
    };
  });
  // Entries past the log head belong to appends not acknowledged when the head was read
  // (in flight, or being rolled back on a non-atomic backend). The page stops before the
  // first of them, and its cursor brings them in on the next page once they are settled.
  const settled = entries.findIndex((entry) => positionFromKey(entry.indexKey as string) > head);
  const cut = Math.min(limit, settled === -1 ? entries.length : settled);
  const page = entries.slice(0, cut);
  const events = eventsOf<E>(ctx, page);
  if (cut === entries.length) return { events };
  // An empty page still needs a cursor that resumes where it started.
  return { events, cursor: page.at(-1)?.indexKey ?? options.cursor ?? prefix };
};

export interface LogPage<E extends EventShape> {
  readonly events: RecordedEvent<E>[];
  /** The position of the last event returned (or `after` when none): pass it as `after`. */
  readonly position: number;
}

export const readGlobalLog = async <E extends EventShape>(
  ctx: Context,
  options: ReadLogOptions = {},
): Promise<LogPage<E>> => {
  if (!ctx.globalLog)
    throw new InvalidArgumentError(
      'readLog',
      'this store does not keep the global log (globalLog: false)',
    );
  validateObject('options', options);
  const database =
    options.database === undefined ? 'default' : validateName('options.database', options.database);
  const after =
    options.after === undefined ? 0 : validateInteger('options.after', options.after, 0);
  const limit = pageSize(options.limit);
  const keys = databaseKeys(database);
  // Bounded by the log head, like stream reads by the stream head: only positions of
  // acknowledged appends, all of them (a gap is corruption, never skipped).
  let last = after;
  const entries = await kvGetThenScan(ctx, [keys.logHead], ([raw]) => {
    last = Math.min(asLogHead(keys.logHead, raw)?.position ?? 0, after + limit);
    if (last <= after) return undefined;
    return {
      by: 'index',
      start: keys.log(after + 1),
      end: keys.log(last + 1),
      limit: last - after,
    };
  });
  if (last <= after) return { events: [], position: after };
  entries.forEach((entry, i) => {
    if (positionFromKey(entry.indexKey as string) !== after + 1 + i) {
      throw new CorruptRecordError(
        keys.log(after + 1 + i),
        undefined,
        'global log entry is missing',
      );
    }
  });
  if (entries.length !== last - after) {
    throw new CorruptRecordError(
      keys.log(after + 1 + entries.length),
      undefined,
      'global log entry is missing',
    );
  }
  return { events: eventsOf<E>(ctx, entries), position: last };
};

/** The log's position: its last event's (0 when empty), from the log head record. */
export const readLogPosition = async (ctx: Context, database: string): Promise<number> => {
  const { logHead } = databaseKeys(database);
  const [raw] = await kvGet(ctx, [logHead]);
  return asLogHead(logHead, raw)?.position ?? 0;
};
