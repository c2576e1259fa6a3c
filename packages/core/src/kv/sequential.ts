import { isKvConditionError, KvConditionError, StorageError } from '../errors.js';
import { type Logger, log } from '../logger.js';
import { failedChecks } from './equal.js';
import type { Kv, KvCheck, KvCommit, KvValue } from './types.js';

/**
 * The commit path for backends without atomic multi-key commits (FR-013): check the
 * conditions, then write one key at a time, each write conditional on that key still
 * holding what was read (compare-and-set), in the order core planned (events first, the
 * stream head last, so readers never see a version whose events are missing). When a
 * write fails, every earlier write is undone, newest first, before the error is thrown,
 * so the session's lease is never released over a half-written append.
 *
 * Concurrent writers: core checks every key an append creates as absent on this path
 * (see append.ts), so racing writers never overwrite each other's events or log entries;
 * the loser of a race rolls back and retries. What this path does not give (a decision,
 * since no shipped adapter takes it): recovery from a writer that dies mid-append. Its
 * keys stay, and later appends to that stream (or, for a log entry, that database) fail
 * with a StorageError after their retries until the leftovers are removed. The lease is
 * also verified when writing starts, not with every key, so a session-less append that
 * began just before a session opened can still land. Readers are safe either way: stream
 * reads stop at the stream head and log and index reads at the log head, both written
 * last.
 */
const NO_KEYS: readonly string[] = [];

export const commitSequentially = async (kv: Kv, plan: KvCommit, logger: Logger): Promise<void> => {
  const checks = plan.checks ?? [];
  const writes: { key: string; value: KvValue | undefined }[] = [
    ...(plan.puts ?? []).map(({ key, value }) => ({ key, value })),
    ...(plan.deletes ?? []).map((key) => ({ key, value: undefined })),
  ];
  const checkByKey = new Map<string, KvCheck>(checks.map((c) => [c.key, c]));
  const readKeys = [...new Set([...checks.map((c) => c.key), ...writes.map((w) => w.key)])];
  const { values: current } = await kv.read(readKeys);
  const before = new Map(readKeys.map((key, i) => [key, current[i]]));
  const failed = failedChecks(
    checks,
    checks.map((c) => before.get(c.key)),
  );
  if (failed.length > 0) throw new KvConditionError(failed);

  const casCheck = (key: string, expected: KvValue | undefined): KvCheck =>
    expected === undefined ? { key, absent: true } : { key, equals: expected };
  const single = (key: string, value: KvValue | undefined, check: KvCheck): KvCommit =>
    value === undefined
      ? { checks: [check], deletes: [key] }
      : { checks: [check], puts: [{ key, value }] };

  const done: { key: string; previous: KvValue | undefined; written: KvValue | undefined }[] = [];
  try {
    for (const { key, value } of writes) {
      const previous = before.get(key);
      const change = single(key, value, checkByKey.get(key) ?? casCheck(key, previous));
      await kv.write(NO_KEYS, () => change);
      done.push({ key, previous, written: value });
    }
  } catch (error) {
    const undoFailures: unknown[] = [];
    const undo = async (key: string, previous: KvValue, written: KvValue, applied: boolean) => {
      try {
        const change = single(key, previous, casCheck(key, written));
        await kv.write(NO_KEYS, () => change);
      } catch (undoError) {
        // For a write that may not have applied, a failed condition proves it did not.
        if (applied || !isKvConditionError(undoError)) undoFailures.push(undoError);
      }
    };
    // The failed write may have applied with only its acknowledgement lost (a failed
    // condition is the one error proving it did not): undo it too, on condition that it
    // holds what was written, or it would outlive the rollback and poison the retry.
    const failing = writes[done.length];
    if (failing && !isKvConditionError(error)) {
      await undo(failing.key, before.get(failing.key), failing.value, false);
    }
    for (const { key, previous, written } of done.reverse())
      await undo(key, previous, written, true);
    if (undoFailures.length > 0) {
      log(logger, 'error', 'rollback.failed', 'rollback of a partial write failed', {
        keys: done.map((d) => d.key),
        failures: undoFailures.length,
      });
      throw new StorageError('rollback', {
        cause: error,
        detail: `a write failed and ${undoFailures.length} of ${done.length} earlier writes could not be undone`,
      });
    }
    if (done.length > 0) {
      log(logger, 'warn', 'append.rolled-back', 'partial write rolled back', {
        keys: done.map((d) => d.key),
      });
    }
    throw error;
  }
};
