import { CorruptRecordError, isKvConditionError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import {
  emulatedIndexRange,
  expandIndexKeys,
  joinIndexEntries,
  unemulateConditionError,
} from './emulated-indexes.js';
import { commitSequentially } from './sequential.js';
import type { Kv, KvCommit, KvEntry, KvRead, KvScan, KvValue } from './types.js';

/**
 * Reads and writes through any `Kv` as core makes them, whatever the adapter keeps
 * itself: index keys are emulated for an adapter without `capabilities.indexes`, and a
 * non-atomic adapter's writes go one key at a time (`sequential.ts`). Core's store and
 * adapter tests use the same functions, so both see the same layout.
 */

/** Point reads, then the range `then` derives from them (one read transaction where the adapter can). */
export const readThen = async (
  kv: Kv,
  keys: readonly string[],
  then?: (values: (KvValue | undefined)[]) => KvScan | undefined,
): Promise<KvRead> => {
  if (then === undefined || kv.capabilities.indexes === true) return kv.read(keys, then);
  let indexScan = false;
  const read = await kv.read(keys, (values) => {
    const range = then(values);
    indexScan = range?.by === 'index';
    return range && indexScan ? emulatedIndexRange(range) : range;
  });
  if (!indexScan || read.entries.length === 0) return read;
  const records = await kv.read(read.entries.map((entry) => entry.value as string));
  const missing = records.values.indexOf(undefined);
  if (missing >= 0) {
    // Entries are written after their record and removed before it: one without its
    // record is damage, reported rather than skipped.
    throw new CorruptRecordError(
      read.entries[missing]!.value as string,
      undefined,
      'the record an index entry names is missing',
    );
  }
  return { values: read.values, entries: joinIndexEntries(read.entries, records.values) };
};

/** Point reads. */
export const kvGet = async (kv: Kv, keys: readonly string[]): Promise<(KvValue | undefined)[]> =>
  (await kv.read(keys)).values;

/** One range, by key or (`by: 'index'`) by index key. */
export const kvScan = async (kv: Kv, range: KvScan): Promise<KvEntry[]> =>
  (await readThen(kv, [], () => range)).entries;

/**
 * Reads `keys`, plans a change from their values and applies it: in one transaction on an
 * atomic adapter; on a non-atomic one, as reads followed by the sequential path, whose
 * per-key conditions then guard against what changed in between.
 */
export const writeThen = async (
  kv: Kv,
  keys: readonly string[],
  plan: (values: (KvValue | undefined)[]) => KvCommit | undefined,
  logger: Logger = silentLogger,
): Promise<void> => {
  const native = kv.capabilities.indexes === true;
  try {
    if (kv.capabilities.atomic) {
      await kv.write(
        keys,
        native
          ? plan
          : (values) => {
              const change = plan(values);
              return change && expandIndexKeys(change);
            },
      );
      return;
    }
    const change = plan(keys.length === 0 ? [] : await kvGet(kv, keys));
    if (change) await commitSequentially(kv, native ? change : expandIndexKeys(change), logger);
  } catch (error) {
    throw isKvConditionError(error) && !native ? unemulateConditionError(error) : error;
  }
};

/** One conditional change, with no reads. */
export const kvCommit = (kv: Kv, change: KvCommit, logger?: Logger): Promise<void> =>
  writeThen(kv, [], () => change, logger);
