import { describe, expect, it } from 'vitest';
import { type InvalidArgumentError, isInvalidArgumentError } from '../errors.js';
import type { RecordedEvent } from '../types.js';
import {
  amounts,
  asStreamsHoldThem,
  type BankEvent,
  caught,
  deposit,
  REF,
  type StoreConformanceOptions,
  type StoreHarness,
} from './harness.js';

const OTHER = { type: 'Card', id: '7' } as const;

const positions = (events: readonly RecordedEvent<BankEvent>[]) => events.map((e) => e.position);

/** `store.readLog`: the default database's events in global order, paged by position. */
export const globalLogTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  describe('global log', () => {
    if (!h.capabilities.readLog) {
      it('does not declare readLog: readLog is refused with INVALID_ARGUMENT', async () => {
        const store = await h.store();
        await store.stream(REF).append(deposit(1));
        await caught(() => store.readLog(), isInvalidArgumentError);
      });
      return;
    }

    const feed = h.capabilities.databaseReads === 'feed';

    it('returns every event at positions 1..N, each stream in order, as the appends reported them', async () => {
      const store = await h.store();
      const a = store.stream(REF);
      const b = store.stream(OTHER);
      const results = [
        await a.append([deposit(1), deposit(2)]),
        await b.append(deposit(3)),
        await a.append(deposit(4)),
        await b.append([deposit(5), deposit(6)]),
      ];
      const log = await store.readLog();
      expect(positions(log.events)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(log.position).toBe(6);
      if (feed) {
        // Streams interleave in delivery order; each stream's events stay in order.
        const of = (id: string) => amounts(log.events.filter((e) => e.metadata.aggregateId === id));
        expect([of(REF.id), of(OTHER.id)]).toEqual([
          [1, 2, 4],
          [3, 5, 6],
        ]);
        for (const r of results) expect(r).not.toHaveProperty('position');
      } else {
        expect(results.map((r) => r.position)).toEqual([2, 3, 4, 6]);
        expect(amounts(log.events)).toEqual([1, 2, 3, 4, 5, 6]);
      }
      // The same events their streams hold (positions included, unless from a feed).
      const streams = [...(await a.read()), ...(await b.read())];
      for (const event of asStreamsHoldThem(h, log.events)) {
        expect(streams).toContainEqual(event);
      }
    });

    it('pages by position: pass position back as after; past the end is empty at the same position', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      await stream.append(Array.from({ length: 5 }, (_, i) => deposit(i + 1)));
      const first = await store.readLog({ limit: 2 });
      expect([positions(first.events), first.position]).toEqual([[1, 2], 2]);
      const second = await store.readLog({ after: first.position, limit: 2 });
      expect([positions(second.events), second.position]).toEqual([[3, 4], 4]);
      const third = await store.readLog({ after: second.position, limit: 2 });
      expect([positions(third.events), third.position]).toEqual([[5], 5]);
      expect(await store.readLog({ after: 5 })).toEqual({ events: [], position: 5 });
      expect(await store.readLog({ after: 9 })).toEqual({ events: [], position: 9 });
      // Events appended later continue where the last page stopped.
      await stream.append(deposit(6));
      const next = await store.readLog({ after: third.position });
      expect([positions(next.events), next.position]).toEqual([[6], 6]);
    });

    it('an empty database has an empty log at position 0', async () => {
      const store = await h.store();
      expect(await store.readLog()).toEqual({ events: [], position: 0 });
    });

    it("a store's log never holds another store's events", async () => {
      const [store, other] = [await h.store(), await h.store()];
      await other.stream(REF).append(deposit(1));
      await store.stream(REF).append(deposit(2));
      const log = await store.readLog();
      expect(amounts(log.events)).toEqual([2]);
      expect(positions(log.events)).toEqual([1]);
    });

    it('refuses a limit outside 1..1000 and a negative or fractional after (INVALID_ARGUMENT)', async () => {
      const store = await h.store();
      const bad: readonly (readonly [object, string])[] = [
        [{ limit: 0 }, 'options.limit'],
        [{ limit: 1001 }, 'options.limit'],
        [{ after: -1 }, 'options.after'],
        [{ after: 1.5 }, 'options.after'],
      ];
      for (const [options, field] of bad) {
        const error = await caught<InvalidArgumentError>(
          () => store.readLog(options),
          isInvalidArgumentError,
        );
        expect(error.field, JSON.stringify(options)).toBe(field);
      }
    });
  });
};
