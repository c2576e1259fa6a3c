import { describe, expect, it } from 'vitest';
import {
  createEventStore,
  createMemoryKv,
  followStream,
  isInvalidArgumentError,
  type RecordedEvent,
  snapshotInChunks,
} from '../src/index.js';

type Counted = { type: 'Counted'; data: { n: number } };
const counted = (n: number) => ({ type: 'Counted' as const, data: { n } });
const ref = { type: 'Counter', id: '1' };

describe('followStream (live tail over any stream handle)', () => {
  it('polls a handle without a change feed and delivers each event once, in order', async () => {
    const stream = createEventStore<Counted>({ kv: createMemoryKv() }).stream(ref);
    await stream.append([counted(1), counted(2)]);
    const seen: number[] = [];
    let wake: (() => void) | undefined;
    const sleep = () =>
      new Promise<void>((resolve) => {
        wake = resolve;
      });
    const stop = followStream(
      stream,
      (events: RecordedEvent<Counted>[]) => {
        seen.push(...events.map((e) => e.data.n));
      },
      { from: 1 },
      { sleep },
    );
    await expect.poll(() => seen).toEqual([1, 2]);
    await stream.append(counted(3));
    wake?.(); // one poll interval passes
    await expect.poll(() => seen).toEqual([1, 2, 3]);
    stop();
    await stream.append(counted(4));
    wake?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual([1, 2, 3]);
  });

  it('follows a change feed when one is given, and stops listening on unsubscribe', async () => {
    const stream = createEventStore<Counted>({ kv: createMemoryKv() }).stream(ref);
    const notifiers = new Set<() => void>();
    const seen: number[] = [];
    const stop = followStream(
      stream,
      (events) => seen.push(...events.map((e) => e.data.n)),
      {},
      {
        sleep: () => new Promise(() => {}), // never polls: only the feed may deliver
        changes: (notify) => {
          notifiers.add(notify);
          return () => notifiers.delete(notify);
        },
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 0)); // reads the head: starts after it
    await stream.append(counted(7));
    for (const notify of notifiers) notify();
    await expect.poll(() => seen).toEqual([7]);
    stop();
    expect(notifiers.size).toBe(0);
  });

  it('refuses bad options', () => {
    const stream = createEventStore<Counted>({ kv: createMemoryKv() }).stream(ref);
    const sleep = async () => {};
    expect(() => followStream(stream, () => {}, { from: 0 }, { sleep })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'options.from' }),
    );
  });
});

describe('snapshotInChunks (snapshotEvery over any stream handle)', () => {
  it('folds full chunks after the latest snapshot and saves one per chunk', async () => {
    const stream = createEventStore<Counted>({ kv: createMemoryKv() }).stream(ref);
    await stream.append([1, 2, 3, 4, 5, 6, 7].map(counted));
    const sum = (state: number | undefined, events: RecordedEvent<Counted>[]) =>
      events.reduce((total, e) => total + e.data.n, state ?? 0);
    expect(await snapshotInChunks(stream, 3, sum)).toEqual([3, 6]);
    expect(await stream.snapshotAt(6)).toMatchObject({ version: 6, state: 21 });
    await stream.append([8, 9].map(counted));
    expect(await snapshotInChunks(stream, 3, sum)).toEqual([9]);
    expect((await stream.latestSnapshot())?.state).toBe(45);
  });

  it('refuses a chunk size below 1 and a fold that is not a function', async () => {
    const stream = createEventStore<Counted>({ kv: createMemoryKv() }).stream(ref);
    const error = await snapshotInChunks(stream, 0, () => 0).catch((e: unknown) => e);
    expect(isInvalidArgumentError(error)).toBe(true);
    const noFold = await snapshotInChunks(stream, 2, 'x' as never).catch((e: unknown) => e);
    expect(isInvalidArgumentError(noFold) && noFold.field).toBe('fold');
  });
});
