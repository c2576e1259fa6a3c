import { decodeEvent } from './encode.js';
import { CorruptRecordError, InvalidArgumentError } from './errors.js';
import { kvGet, kvScan } from './io.js';
import {
  type DatabaseKeys,
  databaseKeys,
  decodeNumber,
  encodeNumber,
  INDEX_NAMES,
  type IndexName,
  streamKeys,
} from './keys.js';
import type { KvEntry } from './kv/types.js';
import type { Context } from './options.js';
import { asEvent, asLogHead, asPointer } from './records.js';
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

/** Follows log or index entries to their events with one batched read. */
const resolvePointers = async <E extends EventShape>(
  ctx: Context,
  database: string,
  entries: readonly KvEntry[],
  positionOf: (entry: KvEntry) => number,
): Promise<RecordedEvent<E>[]> => {
  const pointers = entries.map((entry) => ({ entry, pointer: asPointer(entry.key, entry.value) }));
  const keys = pointers.map(({ pointer }) =>
    streamKeys(database, pointer.type, pointer.id).event(pointer.version),
  );
  const raws = await kvGet(ctx, keys);
  return pointers.map(({ entry, pointer }, i) => {
    const key = keys[i]!;
    const record = asEvent(key, raws[i], pointer.version);
    if (record.position !== positionOf(entry)) {
      throw new CorruptRecordError(
        entry.key,
        pointer.version,
        `points to an event at position ${String(record.position)}`,
      );
    }
    return decodeEvent(ctx, key, record) as RecordedEvent<E>;
  });
};

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
  const head = await logHeadPosition(ctx, keys);
  const entries = await kvScan(ctx, {
    prefix,
    start,
    ...(until === undefined ? {} : { end: prefix + encodeNumber(until) }),
    limit: limit + 1,
  });
  // Entries past the log head belong to appends not acknowledged when the head was read
  // (in flight, or being rolled back on a non-atomic backend). The page stops before the
  // first of them, and its cursor brings them in on the next page once they are settled.
  const settled = entries.findIndex((entry) => positionFromKey(entry.key) > head);
  const cut = Math.min(limit, settled === -1 ? entries.length : settled);
  const page = entries.slice(0, cut);
  const events = await resolvePointers<E>(ctx, database, page, (entry) =>
    positionFromKey(entry.key),
  );
  if (cut === entries.length) return { events };
  // An empty page still needs a cursor that resumes where it started.
  return { events, cursor: page.at(-1)?.key ?? options.cursor ?? prefix };
};

const logHeadPosition = async (ctx: Context, keys: DatabaseKeys): Promise<number> => {
  const [raw] = await kvGet(ctx, [keys.logHead]);
  return asLogHead(keys.logHead, raw)?.position ?? 0;
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
  const head = await logHeadPosition(ctx, keys);
  const last = Math.min(head, after + limit);
  if (last <= after) return { events: [], position: after };
  const entries = await kvScan(ctx, {
    start: keys.log(after + 1),
    end: keys.log(last + 1),
    limit: last - after,
  });
  entries.forEach((entry, i) => {
    if (positionFromKey(entry.key) !== after + 1 + i) {
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
  const events = await resolvePointers<E>(ctx, database, entries, (entry) =>
    positionFromKey(entry.key),
  );
  return { events, position: last };
};
