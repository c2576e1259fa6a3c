import { describe, expect, it } from 'vitest';
import {
  createEventStore,
  createMemoryKv,
  followLog,
  followStream,
  type Kv,
  type RecordedEvent,
  type WaitSignal,
} from '../src/index.js';

type Counted = { type: 'Counted'; data: { n: number } };
const counted = (n: number) => ({ type: 'Counted' as const, data: { n } });
const ref = { type: 'Counter', id: '1' };

/** A long-poll the test answers by hand: each call waits until `answer()`. */
const manualWait = () => {
  const calls: {
    after: number;
    signal: WaitSignal;
    answer: () => void;
    fail: (e: unknown) => void;
  }[] = [];
  return {
    calls,
    wait: (after: number, signal: WaitSignal) =>
      new Promise<void>((resolve, reject) => {
        calls.push({ after, signal, answer: resolve, fail: reject });
      }),
  };
};

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('tails with a long-poll trigger (wait)', () => {
  it('waits after the last version delivered, reads when the wait answers, and aborts the wait on unsubscribe', async () => {
    const stream = createEventStore<Counted>({ kv: createMemoryKv() }).stream(ref);
    await stream.append([counted(1), counted(2)]);
    const poll = manualWait();
    const seen: number[] = [];
    const stop = followStream(
      stream,
      (events) => seen.push(...events.map((e) => e.data.n)),
      {
        from: 1,
      },
      { sleep: () => new Promise(() => {}), wait: poll.wait },
    );
    await expect.poll(() => poll.calls.length).toBe(1);
    expect(seen).toEqual([1, 2]);
    expect(poll.calls[0]?.after).toBe(2);
    await stream.append(counted(3));
    poll.calls[0]?.answer();
    await expect.poll(() => poll.calls.length).toBe(2);
    expect(seen).toEqual([1, 2, 3]);
    expect(poll.calls[1]?.after).toBe(3);
    // A wait that answers at its timeout with nothing new: the tail reads nothing, waits again.
    poll.calls[1]?.answer();
    await expect.poll(() => poll.calls.length).toBe(3);
    expect(poll.calls[2]?.after).toBe(3);
    const signal = poll.calls[2]?.signal as WaitSignal;
    expect(signal.aborted).toBe(false);
    stop();
    expect(signal.aborted).toBe(true);
    await stream.append(counted(4));
    poll.calls[2]?.answer();
    await tick();
    expect(seen).toEqual([1, 2, 3]);
    expect(poll.calls).toHaveLength(3);
  });

  it('reports a failed wait and backs off, doubling from pollIntervalMs, then waits again', async () => {
    const stream = createEventStore<Counted>({ kv: createMemoryKv() }).stream(ref);
    const poll = manualWait();
    const sleeps: number[] = [];
    const wakes: (() => void)[] = [];
    const errors: unknown[] = [];
    const stop = followStream(
      stream,
      () => {},
      { pollIntervalMs: 50, onError: (error) => errors.push(error) },
      {
        sleep: (ms) =>
          new Promise<void>((resolve) => {
            sleeps.push(ms);
            wakes.push(resolve);
          }),
        wait: poll.wait,
      },
    );
    try {
      await expect.poll(() => poll.calls.length).toBe(1);
      const failure = new Error('network down');
      poll.calls[0]?.fail(failure);
      await expect.poll(() => sleeps).toEqual([50]);
      expect(errors).toEqual([failure]);
      wakes[0]?.();
      await expect.poll(() => poll.calls.length).toBe(2);
      poll.calls[1]?.fail(failure);
      await expect.poll(() => sleeps).toEqual([50, 100]);
      wakes[1]?.();
      await expect.poll(() => poll.calls.length).toBe(3);
      // A wait that succeeds resets the backoff.
      poll.calls[2]?.answer();
      await expect.poll(() => poll.calls.length).toBe(4);
      poll.calls[3]?.fail(failure);
      await expect.poll(() => sleeps).toEqual([50, 100, 50]);
      expect(errors).toHaveLength(3);
    } finally {
      stop();
    }
  });

  it('a listener that throws gets its batch again after pollIntervalMs, without waiting in between', async () => {
    const stream = createEventStore<Counted>({ kv: createMemoryKv() }).stream(ref);
    await stream.append([counted(1), counted(2)]);
    const poll = manualWait();
    const sleeps: number[] = [];
    const batches: number[][] = [];
    const stop = followStream(
      stream,
      (events) => {
        batches.push(events.map((e) => e.data.n));
        if (batches.length === 1) throw new Error('render failed');
      },
      { from: 1, pollIntervalMs: 30, onError: () => {} },
      {
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        wait: poll.wait,
      },
    );
    try {
      await expect.poll(() => poll.calls.length).toBe(1);
      expect(batches).toEqual([
        [1, 2],
        [1, 2],
      ]);
      expect(sleeps).toEqual([30]);
      expect(poll.calls[0]?.after).toBe(2);
    } finally {
      stop();
    }
  });

  it('followLog waits after the last position delivered', async () => {
    const store = createEventStore<Counted>({ kv: createMemoryKv() });
    await store.stream(ref).append(counted(1));
    const poll = manualWait();
    const seen: number[] = [];
    const stop = followLog(
      {
        readLog: (page) => store.readLog(page),
        logPosition: () => store.logPosition(),
      },
      (events: RecordedEvent<Counted>[]) => seen.push(...events.map((e) => e.position as number)),
      {},
      { sleep: () => new Promise(() => {}), wait: poll.wait },
    );
    try {
      await expect.poll(() => poll.calls.length).toBe(1);
      expect(poll.calls[0]?.after).toBe(1);
      await store.stream({ type: 'Counter', id: '2' }).append([counted(2), counted(3)]);
      poll.calls[0]?.answer();
      await expect.poll(() => poll.calls.length).toBe(2);
      expect(seen).toEqual([2, 3]);
      expect(poll.calls[1]?.after).toBe(3);
    } finally {
      stop();
    }
  });
});

describe('store.subscribeLog on a backend without a change feed', () => {
  it('polls every pollIntervalMs', async () => {
    const { watch: _watch, ...kv } = createMemoryKv();
    const store = createEventStore<Counted>({ kv: kv as Kv });
    const seen: number[] = [];
    const stop = store.subscribeLog((events) => seen.push(...events.map((e) => e.data.n)), {
      pollIntervalMs: 5,
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 20));
      await store.stream(ref).append([counted(1), counted(2)]);
      await expect.poll(() => seen).toEqual([1, 2]);
    } finally {
      stop();
    }
  });
});
