import { describe, expect, it } from 'vitest';
import { isInvalidArgumentError } from '../errors.js';
import {
  caught,
  collector,
  deposit,
  eventually,
  POLL_MS,
  pause,
  QUIET_MS,
  REF,
  type StoreConformanceOptions,
  type StoreHarness,
} from './harness.js';

/** `stream.subscribe`: a live tail that delivers each event once, in order, whoever wrote it. */
export const subscriptionTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  describe('subscriptions (live tail)', () => {
    it('delivers the events other handles and sessions append, each once, in order', async () => {
      const store = await h.store();
      const seen = collector();
      const stop = store.stream(REF).subscribe(seen.listener, { from: 1, pollIntervalMs: POLL_MS });
      try {
        const writer = store.stream(REF);
        await writer.append(deposit(1));
        await eventually('the first event is delivered', () => seen.versions().length === 1);
        await writer.append([deposit(2), deposit(3)]);
        const session = await store.open(REF);
        await session.append(deposit(4));
        await session.close();
        await writer.append(deposit(5));
        await eventually('five events are delivered', () => seen.versions().length >= 5);
        await pause(QUIET_MS);
        expect(seen.versions()).toEqual([1, 2, 3, 4, 5]);
        expect(seen.amounts()).toEqual([1, 2, 3, 4, 5]);
        expect(seen.batches.flat()).toEqual(await writer.read());
      } finally {
        stop();
      }
    });

    it('from: 1 replays the history first; by default only later events come', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      await stream.append([deposit(1), deposit(2)]);
      const all = collector();
      const later = collector();
      const stopAll = stream.subscribe(all.listener, { from: 1, pollIntervalMs: POLL_MS });
      const stopLater = stream.subscribe(later.listener, { pollIntervalMs: POLL_MS });
      try {
        await eventually('the history is replayed', () => all.versions().length === 2);
        // Both started together; give the default one time to read where the stream is.
        await pause(QUIET_MS);
        expect(later.versions()).toEqual([]);
        await stream.append(deposit(3));
        await eventually(
          'the new event reaches both',
          () => all.versions().length === 3 && later.versions().length === 1,
        );
        await pause(QUIET_MS);
        expect(all.versions()).toEqual([1, 2, 3]);
        expect(later.versions()).toEqual([3]);
      } finally {
        stopAll();
        stopLater();
      }
    });

    it('from: n starts at version n', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      await stream.append([deposit(1), deposit(2), deposit(3)]);
      const seen = collector();
      const stop = stream.subscribe(seen.listener, { from: 2, pollIntervalMs: POLL_MS });
      try {
        await eventually('versions 2 and 3 are delivered', () => seen.versions().length >= 2);
        await pause(QUIET_MS);
        expect(seen.versions()).toEqual([2, 3]);
      } finally {
        stop();
      }
    });

    it('delivers its own stream only', async () => {
      const store = await h.store();
      const seen = collector();
      const stop = store.stream(REF).subscribe(seen.listener, { from: 1, pollIntervalMs: POLL_MS });
      try {
        await store.stream({ type: REF.type, id: 'other' }).append(deposit(9));
        await store.stream({ type: 'Card', id: REF.id }).append(deposit(8));
        await store.stream(REF).append(deposit(1));
        await eventually('the event is delivered', () => seen.versions().length >= 1);
        await pause(QUIET_MS);
        expect(seen.amounts()).toEqual([1]);
      } finally {
        stop();
      }
    });

    it('after unsubscribe nothing more is delivered; unsubscribing twice is harmless', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      const seen = collector();
      const stop = stream.subscribe(seen.listener, { from: 1, pollIntervalMs: POLL_MS });
      await stream.append(deposit(1));
      await eventually('the event is delivered', () => seen.versions().length === 1);
      stop();
      stop();
      await stream.append(deposit(2));
      await pause(QUIET_MS);
      expect(seen.versions()).toEqual([1]);
    });

    it('a listener that throws gets the failed batch again from its first event, and the tail goes on', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      const errors: unknown[] = [];
      const batches: number[][] = [];
      const stop = stream.subscribe(
        (events) => {
          batches.push(events.map((e) => e.version));
          if (batches.length === 1) throw new Error('render failed');
        },
        { from: 1, pollIntervalMs: POLL_MS, onError: (error) => errors.push(error) },
      );
      try {
        await stream.append([deposit(1), deposit(2)]);
        await eventually('the failed batch is delivered again', () => batches.length >= 2);
        expect(batches.slice(0, 2)).toEqual([
          [1, 2],
          [1, 2],
        ]);
        expect(errors).toHaveLength(1);
        expect((errors[0] as Error).message).toBe('render failed');
        await stream.append(deposit(3));
        await eventually('the tail goes on', () => batches.flat().includes(3));
        expect(batches.flat()).toEqual([1, 2, 1, 2, 3]);
      } finally {
        stop();
      }
    });

    it("a session's subscription outlives the session", async () => {
      const store = await h.store();
      const session = await store.open(REF);
      const seen = collector();
      const stop = session.subscribe(seen.listener, { from: 1, pollIntervalMs: POLL_MS });
      try {
        await session.append(deposit(1));
        await eventually('the event is delivered', () => seen.versions().length === 1);
        await session.close();
        await store.stream(REF).append(deposit(2));
        await eventually('the later event is delivered', () => seen.versions().length === 2);
      } finally {
        stop();
      }
    });

    it('bad options are refused with INVALID_ARGUMENT before subscribing', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      const listener = () => {};
      for (const [options, field] of [
        [{ from: 0 }, 'options.from'],
        [{ from: 1.5 }, 'options.from'],
        [{ pollIntervalMs: 0 }, 'options.pollIntervalMs'],
      ] as const) {
        const error = await caught(
          () => stream.subscribe(listener, options),
          isInvalidArgumentError,
        );
        expect(error.field).toBe(field);
      }
      const error = await caught(
        () => stream.subscribe('nope' as unknown as () => void),
        isInvalidArgumentError,
      );
      expect(error.field).toBe('listener');
    });
  });
};
