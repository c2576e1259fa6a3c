import { isEventKvError, StorageError } from './errors.js';
import { commitSequentially } from './kv/sequential.js';
import type { KvCommit, KvEntry, KvScan, KvValue } from './kv/types.js';
import type { Context } from './options.js';

/**
 * Every KV call goes through here: backend errors become `StorageError` (with the
 * backend's error as `cause`); eventkv's own errors, including the commit condition
 * failure core acts on, pass through unchanged.
 */
const wrap = (operation: string, error: unknown): unknown =>
  isEventKvError(error) ? error : new StorageError(operation, { cause: error });

export const kvGet = async (
  ctx: Context,
  keys: readonly string[],
): Promise<(KvValue | undefined)[]> => {
  try {
    return await ctx.kv.get(keys);
  } catch (error) {
    throw wrap('get', error);
  }
};

export const kvScan = async (ctx: Context, scan: KvScan): Promise<KvEntry[]> => {
  try {
    return await ctx.kv.scan(scan);
  } catch (error) {
    throw wrap('scan', error);
  }
};

/**
 * Reads `keys`, then the range `plan` derives from them: in one read transaction where the
 * backend offers `getThenScan`, else as a `get` followed by a `scan` (consistent too,
 * since what a head covers is never rewritten).
 */
export const kvGetThenScan = async (
  ctx: Context,
  keys: readonly string[],
  plan: (values: (KvValue | undefined)[]) => KvScan | undefined,
): Promise<KvEntry[]> => {
  const { kv } = ctx;
  if (kv.getThenScan) {
    try {
      return await kv.getThenScan(keys, plan);
    } catch (error) {
      throw wrap('scan', error);
    }
  }
  const range = plan(await kvGet(ctx, keys));
  return range ? kvScan(ctx, range) : [];
};

/**
 * Reads `keys`, plans a commit from their values and applies it: in one transaction where
 * the backend offers `update` (and is atomic), else as a `get` followed by a `commit`,
 * whose checks then guard against what changed in between.
 */
export const kvUpdate = async (
  ctx: Context,
  keys: readonly string[],
  plan: (values: (KvValue | undefined)[]) => KvCommit | undefined,
): Promise<void> => {
  const { kv } = ctx;
  if (kv.update && kv.capabilities.atomic) {
    try {
      await kv.update(keys, plan);
    } catch (error) {
      throw wrap('commit', error);
    }
    return;
  }
  const commit = plan(await kvGet(ctx, keys));
  if (commit) await kvCommit(ctx, commit);
};

export const kvCommit = async (ctx: Context, plan: KvCommit): Promise<void> => {
  try {
    if (ctx.kv.capabilities.atomic) await ctx.kv.commit(plan);
    else await commitSequentially(ctx.kv, plan, ctx.logger);
  } catch (error) {
    throw wrap('commit', error);
  }
};
