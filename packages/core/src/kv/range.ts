import type { KvScan } from './types.js';

/** The smallest string greater than every string starting with `prefix`. */
export const prefixEnd = (prefix: string): string => {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
};

/**
 * Folds `prefix`, `start` and `end` of a scan into one half-open interval
 * [start, end). Every adapter uses this, so all of them read exactly the same keys.
 * `empty` is true when the interval holds no key.
 */
export const resolveRange = (
  scan: KvScan,
): { start: string | undefined; end: string | undefined; empty: boolean } => {
  let start = scan.start;
  let end = scan.end;
  if (scan.prefix) {
    if (start === undefined || start < scan.prefix) start = scan.prefix;
    const pEnd = prefixEnd(scan.prefix);
    if (end === undefined || end > pEnd) end = pEnd;
  }
  const empty = start !== undefined && end !== undefined && start >= end;
  return { start, end, empty };
};
