import { InvalidArgumentError } from './errors.js';
import { databaseKeys } from './keys.js';
import type { Context } from './options.js';
import { type LogPage, readGlobalLog, readLogPosition } from './queries.js';
import { localTrigger, pollInterval, type Unsubscribe } from './subscribe.js';
import { followCursor, type TailTrigger } from './subscribe-cursor.js';
import type { EventShape, ReadLogOptions, RecordedEvent } from './types.js';
import { validateInteger, validateName, validateObject } from './validate.js';

export interface SubscribeLogOptions {
  /** The database whose log to follow (default `'default'`, or the store's default). */
  readonly database?: string;
  /**
   * Deliver the events after this position (as `readLog`'s `after`). Default: the log's
   * position when the subscription starts, i.e. only events appended from then on. `0`
   * replays the whole log first; the last position a listener saw resumes a subscription
   * without skipping or repeating an event.
   */
  readonly after?: number;
  /**
   * Called when reading fails or `listener` throws. The subscription stays active and
   * nothing is skipped: the batch that failed (or could not be read) is delivered again,
   * from its first event, at the next change or after `pollIntervalMs`.
   */
  readonly onError?: (error: unknown) => void;
  /**
   * How often to look for new events when the backend has neither a change feed nor a
   * long-poll, how long to wait before delivering a failed batch again, and the first
   * backoff after a failed long-poll (default 1000 ms).
   */
  readonly pollIntervalMs?: number;
}

/** What a log tail reads through: one database's log, local or remote. */
export interface LogTailSource<E extends EventShape> {
  readLog(options: Pick<ReadLogOptions, 'after' | 'limit'>): Promise<LogPage<E>>;
  /** The log's position now (its last event's, 0 when empty). */
  logPosition(): Promise<number>;
}

const PAGE = 500;
const KEYS = new Set(['database', 'after', 'onError', 'pollIntervalMs']);

/**
 * Checks `store.subscribeLog`'s arguments as every store does (`InvalidArgumentError`
 * naming the field), and returns the database the options name, if any.
 */
export const checkSubscribeLog = (
  listener: unknown,
  options: SubscribeLogOptions,
): string | undefined => {
  validateObject('options', options);
  for (const key in options) {
    if (!KEYS.has(key)) {
      throw new InvalidArgumentError(
        `options.${key}`,
        'is not a subscribeLog option (database, after, onError, pollIntervalMs)',
      );
    }
  }
  if (typeof listener !== 'function') {
    throw new InvalidArgumentError('listener', 'must be a function');
  }
  if (options.after !== undefined) validateInteger('options.after', options.after, 0);
  pollInterval(options.pollIntervalMs);
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new InvalidArgumentError('options.onError', 'must be a function');
  }
  return options.database === undefined
    ? undefined
    : validateName('options.database', options.database);
};

/**
 * A live tail over a database's global log: delivers its events in position order, each
 * exactly once, in batches (`followCursor`). `store.subscribeLog` is built on it; so are
 * the remote stores (HTTP, Durable Object RPC), which long-poll.
 * @example
 * subscribeLog(listener, options) { return followLog(logOf(database), listener, options, { sleep, wait }); }
 */
export const followLog = <E extends EventShape>(
  source: LogTailSource<E>,
  listener: (events: RecordedEvent<E>[]) => void,
  options: SubscribeLogOptions = {},
  trigger: TailTrigger,
): Unsubscribe => {
  checkSubscribeLog(listener, options);
  return followCursor<RecordedEvent<E>>(
    {
      head: () => source.logPosition(),
      next: async (after) => {
        const page = await source.readLog({ after, limit: PAGE });
        return { items: page.events, cursor: page.position, full: page.events.length >= PAGE };
      },
    },
    listener,
    {
      after: options.after,
      onError: options.onError,
      pollIntervalMs: pollInterval(options.pollIntervalMs),
    },
    trigger,
  );
};

/**
 * `store.subscribeLog` on a local store: follows the KV's change feed (the log head
 * record), or polls on its clock. Refused without a global log, as `readLog` is.
 */
export const subscribeLog = <E extends EventShape>(
  ctx: Context,
  listener: (events: RecordedEvent<E>[]) => void,
  options: SubscribeLogOptions = {},
): Unsubscribe => {
  if (!ctx.globalLog) {
    throw new InvalidArgumentError(
      'subscribeLog',
      'this store does not keep the global log (globalLog: false)',
    );
  }
  const database = checkSubscribeLog(listener, options) ?? 'default';
  const headKey = databaseKeys(database).logHead;
  return followLog<E>(
    {
      readLog: (page) => readGlobalLog<E>(ctx, { ...page, database }),
      logPosition: () => readLogPosition(ctx, database),
    },
    listener,
    options,
    localTrigger(ctx, headKey),
  );
};
