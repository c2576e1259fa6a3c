import { type EventStore, StorageError, type StreamId } from '@eventkv/core';
import type { Replica } from '@eventkv/core/replica';

/** Events read from a stream's own store per copy (one read and one commit each). */
const COPY_PAGE = 500;

/**
 * Brings the replica's copy of a stream (a database feed's) up to `version` from the
 * stream's own store, where the edge appended it. Idempotent by (stream, version), like a
 * delivery: only the versions the copy lacks are read, `replicate` skips events already
 * there (a delivery that raced this one), and a copy that already holds `version` or more
 * is left as it is. With `deliver`, the stream's own delivery is asked first. Resolves `true`
 * when the copy holds more than before (the log grew).
 */
export const copyUpTo = async (
  replica: Replica,
  streams: Pick<EventStore, 'stream'>,
  ref: StreamId,
  version: number,
  deliver?: (ref: StreamId, version: number) => Promise<boolean>,
): Promise<boolean> => {
  let { version: held } = await replica.head(ref);
  const before = held;
  // The stream's own delivery first (`SyncEdgeOptions.deliver`): what it brings is not read
  // again here. Whatever it leaves missing (it failed, or was not made) is copied below.
  if (held < version && deliver !== undefined && (await deliver(ref, version).catch(() => false))) {
    ({ version: held } = await replica.head(ref));
  }
  while (held < version) {
    const events = await streams
      .stream(ref)
      .read({ from: held + 1, to: version, limit: COPY_PAGE });
    if (events.length === 0) {
      throw new StorageError('push', {
        detail: `stream ${ref.type}/${ref.id} no longer holds version ${held + 1} it answered`,
      });
    }
    ({ version: held } = await replica.replicate(ref, events));
  }
  return held > before;
};

/**
 * Calls to other objects a push makes at once (its appends, then its copies): the number
 * of connections a Workers invocation keeps open at a time; more at once only queue.
 * (In local workerd under `wrangler dev`, a push of 100 streams sent all at once was
 * followed, every time, by a request failing with "Network connection lost"; six at a
 * time, about one time in three. Not understood yet: see packages/sync's README.)
 */
export const STREAM_CALLS_AT_ONCE = 6;

/** `work` for each item, at most `limit` at a time, settled in the items' order. */
export const settleInTurns = async <T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> => {
  const settled: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        settled[i] = { status: 'fulfilled', value: await work(items[i] as T) };
      } catch (reason) {
        settled[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return settled;
};
