import { isEventKvError, StorageError } from './errors.js';
import { readThen, writeThen } from './kv/access.js';
import type { KvCommit, KvEntry, KvScan, KvValue } from './kv/types.js';
import type { Context } from './options.js';

/**
 * Every storage call of the store goes through here: backend errors become `StorageError`
 * (with the backend's error as `cause`); eventkv's own errors, including the condition
 * failure core acts on, pass through unchanged.
 */
const wrap = (operation: string, error: unknown): unknown =>
  isEventKvError(error) ? error : new StorageError(operation, { cause: error });

export const kvGet = async (
  ctx: Context,
  keys: readonly string[],
): Promise<(KvValue | undefined)[]> => {
  try {
    return (await ctx.kv.read(keys)).values;
  } catch (error) {
    throw wrap('get', error);
  }
};

export const kvScan = async (ctx: Context, scan: KvScan): Promise<KvEntry[]> => {
  try {
    return (await readThen(ctx.kv, [], () => scan)).entries;
  } catch (error) {
    throw wrap('scan', error);
  }
};

/**
 * Reads `keys`, then the range `plan` derives from them, in one read transaction where
 * the backend can (what a head covers is never rewritten, so it is consistent anyway).
 */
export const kvGetThenScan = async (
  ctx: Context,
  keys: readonly string[],
  plan: (values: (KvValue | undefined)[]) => KvScan | undefined,
): Promise<KvEntry[]> => {
  try {
    return (await readThen(ctx.kv, keys, plan)).entries;
  } catch (error) {
    throw wrap('scan', error);
  }
};

/** Reads `keys`, plans a change from their values and applies it (`writeThen`). */
export const kvUpdate = async (
  ctx: Context,
  keys: readonly string[],
  plan: (values: (KvValue | undefined)[]) => KvCommit | undefined,
): Promise<void> => {
  try {
    await writeThen(ctx.kv, keys, plan, ctx.logger);
  } catch (error) {
    throw wrap('commit', error);
  }
};

export const kvCommit = (ctx: Context, change: KvCommit): Promise<void> =>
  kvUpdate(ctx, [], () => change);
