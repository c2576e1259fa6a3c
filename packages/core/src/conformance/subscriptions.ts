import { describe, expect, it } from 'vitest';
import type { Clock } from '../clock.js';
import { isInvalidArgumentError } from '../errors.js';
import type { RecordedEvent } from '../types.js';
import {
  type BankEvent,
  type ConformanceOptions,
  caught,
  deposit,
  type Harness,
  useHarness,
} from './harness.js';

const REF = { type: 'BankAccount', id: '42' } as const;

const amounts = (events: readonly RecordedEvent<BankEvent>[]) =>
  events.map((e) => (e.type === 'Deposited' ? e.data.amount : undefined));

/** One macrotask: lets pending reads and backend callbacks run. */
const tick = (): Promise<void> =>
  new Promise((resolve) =>
    (globalThis as unknown as { setTimeout(f: () => void, ms: number): unknown }).setTimeout(
      resolve,
      0,
    ),
  );

/**
 * The harness clock, except that `sleep` waits a macrotask instead of advancing time: the
 * manual clock's instant sleep would make a polling subscription spin without yielding.
 */
const yieldingClock = (h: Harness): Clock => ({ now: () => h.clock.now(), sleep: tick });

/** A real pause: a backend whose calls are requests (a Durable Object) needs wall time. */
const pause = (ms: number): Promise<void> =>
  new Promise((resolve) =>
    (globalThis as unknown as { setTimeout(f: () => void, ms: number): unknown }).setTimeout(
      resolve,
      ms,
    ),
  );

/**
 * Waits until `done()` holds, up to about 2 s of wall time. Lets pending reads settle, and
 * moves the harness clock so a backend without a change feed gets polled.
 */
const until = async (h: Harness, done: () => boolean): Promise<void> => {
  for (let round = 0; round < 400 && !done(); round++) {
    await (round < 20 ? tick() : pause(5));
    h.clock.advance(1_000);
  }
  expect(done(), 'the subscription did not deliver in time').toBe(true);
};

/** Collects what a subscription delivers. */
const collector = () => {
  const batches: RecordedEvent<BankEvent>[][] = [];
  const errors: unknown[] = [];
  return {
    batches,
    errors,
    listener: (events: RecordedEvent<BankEvent>[]) => {
      batches.push(events);
    },
    versions: () => batches.flat().map((e) => e.version),
  };
};

/**
 * `stream.subscribe`: a live tail that delivers every event once, in order, whoever wrote
 * it; on backends with a change feed it follows it, on others it polls.
 */
export const subscriptionTests = (options: ConformanceOptions): void => {
  const harness = useHarness(options);

  describe('subscriptions (live tail)', () => {
    it('delivers events appended by another store over the same storage, in order, once', async () => {
      const h = await harness();
      const seen = collector();
      const stop = h
        .store({ clock: yieldingClock(h) })
        .stream(REF)
        .subscribe(seen.listener, { from: 1 });
      try {
        const writer = h.store().stream(REF);
        await writer.append(deposit(1));
        await until(h, () => seen.versions().length === 1);
        await writer.append([deposit(2), deposit(3)]);
        await writer.append(deposit(4));
        await until(h, () => seen.versions().length === 4);
        expect(seen.versions()).toEqual([1, 2, 3, 4]);
        expect(amounts(seen.batches.flat())).toEqual([1, 2, 3, 4]);
      } finally {
        stop();
      }
    });

    it('from: 1 replays history first; the default starts after the current head', async () => {
      const h = await harness();
      const stream = h.store({ clock: yieldingClock(h) }).stream(REF);
      await stream.append([deposit(1), deposit(2)]);
      const all = collector();
      const fresh = collector();
      const stopAll = stream.subscribe(all.listener, { from: 1 });
      const stopFresh = stream.subscribe(fresh.listener);
      try {
        await until(h, () => all.versions().length === 2);
        // Let the default subscription read the head before the next append.
        for (let i = 0; i < 10; i++) await tick();
        await stream.append(deposit(3));
        await until(h, () => all.versions().length === 3 && fresh.versions().length === 1);
        expect(all.versions()).toEqual([1, 2, 3]);
        expect(fresh.versions()).toEqual([3]);
      } finally {
        stopAll();
        stopFresh();
      }
    });

    it('only its own stream: appends to other streams deliver nothing', async () => {
      const h = await harness();
      const seen = collector();
      const stop = h
        .store({ clock: yieldingClock(h) })
        .stream(REF)
        .subscribe(seen.listener, { from: 1 });
      try {
        await h.store().stream({ type: 'BankAccount', id: '43' }).append(deposit(9));
        await h.store().stream(REF).append(deposit(1));
        await until(h, () => seen.versions().length === 1);
        expect(amounts(seen.batches.flat())).toEqual([1]);
      } finally {
        stop();
      }
    });

    it('after unsubscribe nothing more is delivered', async () => {
      const h = await harness();
      const seen = collector();
      const stream = h.store({ clock: yieldingClock(h) }).stream(REF);
      const stop = stream.subscribe(seen.listener, { from: 1 });
      await stream.append(deposit(1));
      await until(h, () => seen.versions().length === 1);
      stop();
      stop(); // idempotent
      await stream.append(deposit(2));
      for (let i = 0; i < 20; i++) {
        await pause(5);
        h.clock.advance(1_000);
      }
      expect(seen.versions()).toEqual([1]);
    });

    it('a listener that throws gets the failed batch again, from its first event, and the tail goes on', async () => {
      const h = await harness();
      const errors: unknown[] = [];
      const batches: number[][] = [];
      const stream = h.store({ clock: yieldingClock(h) }).stream(REF);
      const stop = stream.subscribe(
        (events) => {
          batches.push(events.map((e) => e.version));
          if (batches.length === 1) throw new Error('render failed');
        },
        { from: 1, onError: (error) => errors.push(error) },
      );
      try {
        await stream.append([deposit(1), deposit(2)]);
        // Redelivered without waiting for another append.
        await until(h, () => batches.length === 2);
        expect(batches).toEqual([
          [1, 2],
          [1, 2],
        ]);
        expect(errors).toHaveLength(1);
        expect((errors[0] as Error).message).toBe('render failed');
        await stream.append(deposit(3));
        await until(h, () => batches.length === 3);
        expect(batches[2]).toEqual([3]);
      } finally {
        stop();
      }
    });

    it('a session handle can subscribe, and its tail outlives the session', async () => {
      const h = await harness();
      const session = await h
        .store({ clock: yieldingClock(h) })
        .open(REF, { sessionTimeoutMs: 1_000_000_000 });
      const seen = collector();
      const stop = session.subscribe(seen.listener, { from: 1 });
      try {
        await session.append(deposit(1));
        await until(h, () => seen.versions().length === 1);
        await session.close();
        await h.store().stream(REF).append(deposit(2));
        await until(h, () => seen.versions().length === 2);
      } finally {
        stop();
      }
    });

    it('refuses bad options before subscribing', async () => {
      const h = await harness();
      const stream = h.store().stream(REF);
      await caught(() => stream.subscribe(() => {}, { from: 0 }), isInvalidArgumentError);
      await caught(
        () => stream.subscribe(() => {}, { pollIntervalMs: -1 }),
        isInvalidArgumentError,
      );
      await caught(() => stream.subscribe('nope' as unknown as () => void), isInvalidArgumentError);
    });
  });
};
