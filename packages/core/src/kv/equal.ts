import type { KvCheck, KvValue } from './types.js';

/**
 * Deep equality of stored values, as commit checks need it. Core only checks records it
 * built itself (heads, leases, log heads): plain objects, arrays and primitives.
 */
export const kvValuesEqual = (a: KvValue, b: KvValue): boolean => {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => kvValuesEqual(item, b[i]));
  }
  if (Array.isArray(b)) return false;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  const ra = a as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(rb, k) && kvValuesEqual(ra[k], rb[k]));
};

/**
 * The keys whose check fails against `current` (the values read for the checks' keys,
 * in the same order). Adapters call this inside their transaction.
 */
export const failedChecks = (
  checks: readonly KvCheck[],
  current: readonly (KvValue | undefined)[],
): string[] => {
  const failed: string[] = [];
  checks.forEach((check, i) => {
    if (!checkHolds(check, current[i])) failed.push(check.key);
  });
  return failed;
};

/** Whether one check holds against the value its key holds now. */
export const checkHolds = (check: KvCheck, value: KvValue | undefined): boolean =>
  'absent' in check
    ? value === undefined
    : value !== undefined && kvValuesEqual(value, check.equals);
