import { describe, expect, it } from 'vitest';
import { isInvalidArgumentError } from '../errors.js';
import type { EventStore } from '../store.js';
import type { SubscribeLogOptions } from '../subscribe-log.js';
import type { RecordedEvent } from '../types.js';
import {
  type BankEvent,
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

const OTHER = { type: 'Card', id: '7' } as const;

/** The whole log, every page. */
const wholeLog = async (store: EventStore<BankEvent>): Promise<RecordedEvent<BankEvent>[]> => {
  const events: RecordedEvent<BankEvent>[] = [];
  for (let after = 0; ; ) {
    const page = await store.readLog({ after, limit: 1000 });
    if (page.events.length === 0) return events;
    events.push(...page.events);
    after = page.position;
  }
};

/** Positions `first..last`. */
const range = (first: number, last: number) =>
  Array.from({ length: last - first + 1 }, (_, i) => first + i);

/**
 * `store.subscribeLog`: a live tail of the database's global log that delivers each event
 * once, in position order, whoever appended it, and resumes from a position. From a feed
 * (`databaseReads: 'feed'`) positions are the feed's, each stream's events in version
 * order, and other writers' events arrive after the feed's lag.
 */
export const logSubscriptionTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  describe('log subscriptions (subscribeLog)', () => {
    if (!h.capabilities.readLog) {
      it('does not declare readLog: subscribeLog and logPosition are refused with INVALID_ARGUMENT', async () => {
        const store = await h.store();
        const error = await caught(() => store.subscribeLog(() => {}), isInvalidArgumentError);
        expect(error.field).toBe('subscribeLog');
        await caught(() => store.logPosition(), isInvalidArgumentError);
      });
      return;
    }

    it('logPosition is 0 for an empty log, then the position of its last event', async () => {
      const store = await h.store();
      expect(await store.logPosition()).toBe(0);
      await store.stream(REF).append([deposit(1), deposit(2)]);
      await store.stream(OTHER).append(deposit(3));
      expect(await store.logPosition()).toBe(3);
      expect((await store.readLog()).position).toBe(3);
    });

    it('after: 0 replays the log, then delivers what any stream appends, each once, in position order', async () => {
      const store = await h.store();
      await store.stream(REF).append([deposit(1), deposit(2)]);
      const seen = collector();
      const stop = store.subscribeLog(seen.listener, { after: 0, pollIntervalMs: POLL_MS });
      try {
        await eventually('the history is replayed', () => seen.positions().length === 2);
        await store.stream(OTHER).append(deposit(3));
        const session = await store.open(REF);
        await session.append([deposit(4), deposit(5)]);
        await session.close();
        await store.stream(OTHER).append(deposit(6));
        await eventually('six events are delivered', () => seen.positions().length >= 6);
        await pause(QUIET_MS);
        expect(seen.positions()).toEqual(range(1, 6));
        expect(seen.events()).toEqual(await wholeLog(store));
        const of = (id: string) =>
          seen
            .events()
            .filter((e) => e.metadata.aggregateId === id)
            .map((e) => e.version);
        expect([of(REF.id), of(OTHER.id)]).toEqual([
          [1, 2, 3, 4],
          [1, 2],
        ]);
      } finally {
        stop();
      }
    });

    it('by default delivers only what is appended after subscribing; after: n starts after position n', async () => {
      const store = await h.store();
      await store.stream(REF).append([deposit(1), deposit(2), deposit(3)]);
      const later = collector();
      const fromTwo = collector();
      const stopLater = store.subscribeLog(later.listener, { pollIntervalMs: POLL_MS });
      const stopFromTwo = store.subscribeLog(fromTwo.listener, {
        after: 2,
        pollIntervalMs: POLL_MS,
      });
      try {
        await eventually('position 3 is delivered after 2', () => fromTwo.positions().length >= 1);
        // Give the default one time to read where the log is.
        await pause(QUIET_MS);
        expect(later.positions()).toEqual([]);
        await store.stream(OTHER).append(deposit(4));
        await eventually(
          'the new event reaches both',
          () => later.positions().length >= 1 && fromTwo.positions().length >= 2,
        );
        await pause(QUIET_MS);
        expect(later.amounts()).toEqual([4]);
        expect(later.positions()).toEqual([4]);
        expect(fromTwo.positions()).toEqual([3, 4]);
        expect(fromTwo.amounts()).toEqual([3, 4]);
      } finally {
        stopLater();
        stopFromTwo();
      }
    });

    it('delivers every event once, in position order, while many writers append concurrently', async () => {
      const store = await h.store();
      const seen = collector();
      const stop = store.subscribeLog(seen.listener, { after: 0, pollIntervalMs: POLL_MS });
      const WRITERS = 5;
      const APPENDS = 8;
      try {
        await Promise.all(
          Array.from({ length: WRITERS }, async (_, w) => {
            const stream = store.stream({ type: REF.type, id: `writer-${w}` });
            for (let i = 0; i < APPENDS; i++) {
              await stream.append(
                i % 3 === 2
                  ? [deposit(w * 100 + i), deposit(w * 100 + i + 50)]
                  : deposit(w * 100 + i),
              );
            }
          }),
        );
        const total = WRITERS * (APPENDS + Math.floor(APPENDS / 3));
        await eventually(`${total} events are delivered`, () => seen.positions().length >= total);
        await pause(QUIET_MS);
        expect(seen.positions()).toEqual(range(1, total));
        expect(seen.events()).toEqual(await wholeLog(store));
        for (let w = 0; w < WRITERS; w++) {
          const versions = seen
            .events()
            .filter((e) => e.metadata.aggregateId === `writer-${w}`)
            .map((e) => e.version);
          expect(versions).toEqual(range(1, versions.length));
        }
      } finally {
        stop();
      }
    });

    it('resumes from the last position seen: nothing skipped or repeated across the gap', async () => {
      const store = await h.store();
      const first = collector();
      const stop = store.subscribeLog(first.listener, { after: 0, pollIntervalMs: POLL_MS });
      await store.stream(REF).append([deposit(1), deposit(2)]);
      await eventually('the first events are delivered', () => first.positions().length === 2);
      stop();
      stop(); // harmless
      const last = first.positions().at(-1) as number;
      // Appended while nobody listens: nothing more reaches the stopped subscription.
      await store.stream(OTHER).append(deposit(3));
      await store.stream(REF).append(deposit(4));
      await pause(QUIET_MS);
      expect(first.positions()).toEqual([1, 2]);
      const second = collector();
      const stopSecond = store.subscribeLog(second.listener, {
        after: last,
        pollIntervalMs: POLL_MS,
      });
      try {
        await store.stream(OTHER).append(deposit(5));
        await eventually('the rest is delivered', () => second.positions().length >= 3);
        await pause(QUIET_MS);
        expect([...first.positions(), ...second.positions()]).toEqual(range(1, 5));
        expect([...first.events(), ...second.events()]).toEqual(await wholeLog(store));
      } finally {
        stopSecond();
      }
    });

    it('a listener that throws gets the failed batch again from its first event, and the tail goes on', async () => {
      const store = await h.store();
      const errors: unknown[] = [];
      const batches: number[][] = [];
      const stop = store.subscribeLog(
        (events) => {
          batches.push(events.map((e) => e.position as number));
          if (batches.length === 1) throw new Error('projection failed');
        },
        { after: 0, pollIntervalMs: POLL_MS, onError: (error) => errors.push(error) },
      );
      try {
        await store.stream(REF).append([deposit(1), deposit(2)]);
        await eventually('the failed batch is delivered again', () => batches.length >= 2);
        expect(batches.slice(0, 2)).toEqual([
          [1, 2],
          [1, 2],
        ]);
        expect(errors).toHaveLength(1);
        expect((errors[0] as Error).message).toBe('projection failed');
        await store.stream(OTHER).append(deposit(3));
        await eventually('the tail goes on', () => batches.flat().includes(3));
        expect(batches.flat()).toEqual([1, 2, 1, 2, 3]);
      } finally {
        stop();
      }
    });

    it("a store's log subscription never delivers another store's events", async () => {
      const [store, other] = [await h.store(), await h.store()];
      const seen = collector();
      const stop = store.subscribeLog(seen.listener, { after: 0, pollIntervalMs: POLL_MS });
      try {
        await other.stream(REF).append(deposit(1));
        await store.stream(REF).append(deposit(2));
        await eventually('the event is delivered', () => seen.positions().length >= 1);
        await pause(QUIET_MS);
        expect(seen.amounts()).toEqual([2]);
      } finally {
        stop();
      }
    });

    it('bad arguments are refused with INVALID_ARGUMENT before subscribing', async () => {
      const store = await h.store();
      const listener = () => {};
      const bad: readonly (readonly [unknown, string])[] = [
        [{ after: -1 }, 'options.after'],
        [{ after: 1.5 }, 'options.after'],
        [{ after: '3' }, 'options.after'],
        [{ pollIntervalMs: 0 }, 'options.pollIntervalMs'],
        [{ from: 1 }, 'options.from'],
        [{ onError: 'log' }, 'options.onError'],
        ['everything', 'options'],
      ];
      for (const [options, field] of bad) {
        const error = await caught(
          () => store.subscribeLog(listener, options as SubscribeLogOptions),
          isInvalidArgumentError,
        );
        expect(error.field, JSON.stringify(options)).toBe(field);
      }
      const error = await caught(
        () => store.subscribeLog('nope' as unknown as () => void),
        isInvalidArgumentError,
      );
      expect(error.field).toBe('listener');
      const position = await caught(
        () => store.logPosition('default' as unknown as object),
        isInvalidArgumentError,
      );
      expect(position.field).toBe('options');
    });
  });
};
