import { HOLDS_HEADER, MAX_HOLDS, MAX_HOLDS_LENGTH } from '@eventkv/client';
import { checkName, InvalidArgumentError, StorageError } from '@eventkv/core';
import { decodeSegment, parseInteger } from './params.js';

/** An append a database-wide read must see: the stream (of the request's database) and its version. */
export interface OwnAppend {
  readonly ref: { readonly type: string; readonly id: string };
  readonly version: number;
}

/**
 * Resolves `true` once the database's feed holds each stream at least at its version,
 * `false` when it did not in time (`AppOptions.feedWaitFor`).
 */
export type FeedWait = (appends: readonly OwnAppend[]) => Promise<boolean>;

/** The appends an `Eventkv-Holds` header names (none without one). */
export const parseHolds = (header: string | null): OwnAppend[] => {
  if (header === null || header.trim() === '') return [];
  if (header.length > MAX_HOLDS_LENGTH) {
    throw new InvalidArgumentError(HOLDS_HEADER, `must be at most ${MAX_HOLDS_LENGTH} characters`);
  }
  const entries = header.split(',');
  if (entries.length > MAX_HOLDS) {
    throw new InvalidArgumentError(HOLDS_HEADER, `must name at most ${MAX_HOLDS} streams`);
  }
  return entries.map((entry, i) => {
    const parts = entry.trim().split('/');
    const field = `${HOLDS_HEADER}[${i}]`;
    if (parts.length !== 3) throw new InvalidArgumentError(field, 'must be type/id/version');
    const [type, id, version] = parts as [string, string, string];
    const n = parseInteger(`${field}.version`, version) as number;
    if (n === 0) throw new InvalidArgumentError(`${field}.version`, 'must be a positive integer');
    return {
      ref: {
        type: checkName(`${field}.type`, decodeSegment(`${field}.type`, type)),
        id: checkName(`${field}.id`, decodeSegment(`${field}.id`, id)),
      },
      version: n,
    };
  });
};

/**
 * Waits, when the request names appends in `Eventkv-Holds` and the database's reads come
 * from a feed, until the feed holds them. The header is checked either way; `waitFor` is
 * asked for the wait only when the header names appends.
 * `StorageError` (503, safe to retry) when the feed did not hold them in time.
 */
export const holdOwnAppends = async (
  operation: string,
  request: Request,
  waitFor: () => FeedWait | undefined,
): Promise<void> => {
  const appends = parseHolds(request.headers.get(HOLDS_HEADER));
  if (appends.length === 0) return;
  const wait = waitFor();
  if (wait === undefined) return;
  if (!(await wait(appends))) {
    throw new StorageError(operation, {
      detail: `the database's feed does not hold the appends named in ${HOLDS_HEADER} yet`,
    });
  }
};
