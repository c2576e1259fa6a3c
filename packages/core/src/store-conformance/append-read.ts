import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../types.js';
import {
  amounts,
  type BankEvent,
  deposit,
  REF,
  type StoreConformanceOptions,
  type StoreHarness,
  versions,
} from './harness.js';

/** Appends and reads: results, recorded metadata, order, slices and stream separation. */
export const appendReadTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  describe('append and read', () => {
    it('records an event with its metadata and returns the append result', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      expect(stream.ref).toMatchObject(REF);
      expect(typeof stream.ref.database).toBe('string');
      const before = Date.now();
      const result = await stream.append(
        {
          type: 'AccountOpened',
          data: { owner: 'ada', currency: 'EUR', openedAt: new Date(Date.UTC(2026, 0, 2)) },
          metadata: {
            messageId: 'open-1',
            schemaVersion: 2,
            userId: 'ada',
            correlationId: 'c-1',
            causationId: 'cmd-1',
          },
        },
        { expectedVersion: 'no-stream' },
      );
      const after = Date.now();
      expect(result).toMatchObject({ version: 1, firstVersion: 1, deduplicated: false });

      const [event, ...rest] = await stream.read();
      expect(rest).toEqual([]);
      expect(event).toMatchObject({
        type: 'AccountOpened',
        version: 1,
        data: { owner: 'ada', currency: 'EUR', openedAt: new Date(Date.UTC(2026, 0, 2)) },
        metadata: {
          messageId: 'open-1',
          schemaVersion: 2,
          userId: 'ada',
          correlationId: 'c-1',
          causationId: 'cmd-1',
          aggregateType: REF.type,
          aggregateId: REF.id,
          database: stream.ref.database,
        },
      });
      // Stamped by the store's clock while the append was in flight (a second of slack for
      // a remote clock).
      const { timestamp } = event!.metadata;
      expect(timestamp).toBeGreaterThanOrEqual(before - 1_000);
      expect(timestamp).toBeLessThanOrEqual(after + 1_000);
    });

    it('omits metadata that was not given, and defaults schemaVersion to 1', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      await stream.append({ type: 'AccountClosed' });
      const [event] = await stream.read();
      expect(event!.metadata.schemaVersion).toBe(1);
      expect(typeof event!.metadata.messageId).toBe('string');
      expect(event!.metadata.messageId.length).toBeGreaterThan(0);
      for (const field of ['userId', 'correlationId', 'causationId'] as const) {
        expect(event!.metadata[field], field).toBeUndefined();
      }
      expect((event as { data?: unknown }).data).toBeUndefined();
    });

    it('a multi-event append follows the existing events and reports its first and last versions', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      await stream.append(deposit(1));
      const result = await stream.append([deposit(2), deposit(3), deposit(4)], {
        expectedVersion: 1,
      });
      expect(result).toMatchObject({ version: 4, firstVersion: 2, deduplicated: false });
      const events = await stream.read();
      expect(versions(events)).toEqual([1, 2, 3, 4]);
      expect(amounts(events)).toEqual([1, 2, 3, 4]);
      expect(await stream.version()).toBe(4);
    });

    it('an empty or unknown stream reads as no events at version 0', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      expect(await stream.read()).toEqual([]);
      expect(await stream.read({ direction: 'backward' })).toEqual([]);
      expect(await stream.version()).toBe(0);
      expect(await stream.load()).toEqual({ snapshot: undefined, events: [], version: 0 });
    });

    it('the expected version defaults to any', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      expect((await stream.append(deposit(1))).version).toBe(1);
      expect((await stream.append(deposit(2))).version).toBe(2);
    });

    it('timestamps never go backwards within a stream', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      for (let i = 0; i < 5; i++) await stream.append(deposit(i));
      const times = (await stream.read()).map((e) => e.metadata.timestamp);
      expect(times).toEqual([...times].sort((a, b) => a - b));
    });

    describe('slices', () => {
      const ten = async () => {
        const stream = (await h.store()).stream(REF);
        await stream.append(Array.from({ length: 10 }, (_, i) => deposit(i + 1)));
        return stream;
      };

      it('from and to are inclusive; a slice past either end is cut, one beyond the head is empty', async () => {
        const stream = await ten();
        expect(versions(await stream.read({ from: 3, to: 5 }))).toEqual([3, 4, 5]);
        expect(versions(await stream.read({ from: 8 }))).toEqual([8, 9, 10]);
        expect(versions(await stream.read({ to: 2 }))).toEqual([1, 2]);
        expect(versions(await stream.read({ from: 9, to: 20 }))).toEqual([9, 10]);
        expect(await stream.read({ from: 11 })).toEqual([]);
        expect(versions(await stream.read({ from: 4, to: 4 }))).toEqual([4]);
      });

      it('reads backwards, and limits count in the direction of reading', async () => {
        const stream = await ten();
        expect(versions(await stream.read({ direction: 'backward' }))).toEqual([
          10, 9, 8, 7, 6, 5, 4, 3, 2, 1,
        ]);
        expect(versions(await stream.read({ direction: 'backward', limit: 3 }))).toEqual([
          10, 9, 8,
        ]);
        expect(versions(await stream.read({ from: 4, limit: 2 }))).toEqual([4, 5]);
        expect(
          versions(await stream.read({ from: 2, to: 6, direction: 'backward', limit: 2 })),
        ).toEqual([6, 5]);
        expect(versions(await stream.read({ direction: 'forward', limit: 20 }))).toHaveLength(10);
      });

      it('a slice is exactly the matching events of a full read', async () => {
        const stream = await ten();
        const all = await stream.read();
        expect(await stream.read({ from: 3, to: 7 })).toEqual(all.slice(2, 7));
        expect(await stream.read({ from: 3, to: 7, direction: 'backward' })).toEqual(
          all.slice(2, 7).reverse(),
        );
      });
    });

    describe('streams', () => {
      it('streams of other ids and types are separate', async () => {
        const store = await h.store();
        await store.stream(REF).append([deposit(1), deposit(2)]);
        await store.stream({ type: REF.type, id: '43' }).append(deposit(3));
        await store.stream({ type: 'Card', id: REF.id }).append(deposit(4));
        expect(amounts(await store.stream(REF).read())).toEqual([1, 2]);
        expect(amounts(await store.stream({ type: REF.type, id: '43' }).read())).toEqual([3]);
        const card = await store.stream({ type: 'Card', id: REF.id }).read();
        expect(card.map((e) => [e.version, e.metadata.aggregateType])).toEqual([[1, 'Card']]);
      });

      it('names with separators, escapes and non-ASCII characters keep streams apart', async () => {
        const store = await h.store();
        const refs = [
          { type: 'a/b', id: 'c' },
          { type: 'a', id: 'b/c' },
          { type: 'a%2Fb', id: 'c' },
          { type: 'Konto ü', id: '名前 🙂' },
          { type: 'a', id: 'b c' },
          { type: 'a', id: 'b+c' },
        ];
        for (const [i, ref] of refs.entries()) await store.stream(ref).append(deposit(i));
        for (const [i, ref] of refs.entries()) {
          const events: RecordedEvent<BankEvent>[] = await store.stream(ref).read();
          expect(amounts(events), JSON.stringify(ref)).toEqual([i]);
          expect(events[0]!.metadata).toMatchObject({
            aggregateType: ref.type,
            aggregateId: ref.id,
          });
        }
      });

      it('handles of one stream share it: what one appends, another reads', async () => {
        const store = await h.store();
        await store.stream(REF).append(deposit(1));
        await store.stream(REF).append(deposit(2), { expectedVersion: 1 });
        expect(amounts(await store.stream(REF).read())).toEqual([1, 2]);
      });
    });
  });
};
