import { InvalidArgumentError } from './errors.js';
import type { EventShape, ReadOptions, RecordedEvent, Snapshot } from './types.js';
import { validateInteger } from './validate.js';

/** The stream methods `snapshotEvery` is made of: any stream handle, local or remote. */
export interface SnapshotSource<E extends EventShape> {
  latestSnapshot<S = unknown>(): Promise<Snapshot<S> | undefined>;
  version(): Promise<number>;
  read(options?: ReadOptions): Promise<RecordedEvent<E>[]>;
  saveSnapshot<S>(version: number, state: S): Promise<void>;
}

/**
 * Folds the events after the latest snapshot in chunks of `every` and saves a snapshot at
 * the end of each full chunk; returns the versions saved. `stream.snapshotEvery` is this
 * over a local handle; remote stores (HTTP, Durable Object RPC) run it on the caller's
 * side, where the fold lives, each save checked by the server.
 * @example
 * snapshotEvery(every, fold) { return snapshotInChunks(this, every, fold); }
 */
export const snapshotInChunks = async <E extends EventShape, S>(
  stream: SnapshotSource<E>,
  every: number,
  fold: (state: S | undefined, events: RecordedEvent<E>[]) => S | Promise<S>,
): Promise<number[]> => {
  validateInteger('every', every, 1);
  if (typeof fold !== 'function') throw new InvalidArgumentError('fold', 'must be a function');
  const latest = await stream.latestSnapshot<S>();
  let state = latest?.state;
  let from = (latest?.version ?? 0) + 1;
  const head = await stream.version();
  const saved: number[] = [];
  while (from + every - 1 <= head) {
    const to = from + every - 1;
    const chunk = await stream.read({ from, to });
    state = await fold(state, chunk);
    await stream.saveSnapshot(to, state);
    saved.push(to);
    from = to + 1;
  }
  return saved;
};
