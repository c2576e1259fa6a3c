import { kvScan } from './io.js';
import type { Context } from './options.js';
import { asEvent, type EventRecord } from './records.js';

/**
 * The event stored under one index key (a message id's, see `keys.ts`), or undefined.
 * Index keys are printable ASCII without spaces, so [key, key + ' ') holds only `key`.
 */
export const eventUnder = async (
  ctx: Context,
  indexKey: string,
): Promise<EventRecord | undefined> => {
  const [entry] = await kvScan(ctx, {
    by: 'index',
    start: indexKey,
    end: `${indexKey} `,
    limit: 1,
  });
  if (entry === undefined) return undefined;
  const version = (entry.value as { version?: unknown } | null)?.version;
  return asEvent(entry.key, entry.value, typeof version === 'number' ? version : 0);
};
