import { describe, expect, it } from 'vitest';
import { type InvalidArgumentError, isInvalidArgumentError } from '../errors.js';
import type { IndexName } from '../keys.js';
import type { EventStore } from '../store.js';
import type { EventInput, QueryPage, RecordedEvent } from '../types.js';
import {
  asStreamsHoldThem,
  type BankEvent,
  caught,
  pause,
  REF,
  type StoreConformanceOptions,
  type StoreHarness,
} from './harness.js';

const ALL_INDEXES: readonly IndexName[] = ['eventType', 'aggregateType', 'user', 'correlation'];

/**
 * The value each index is queried with. A `match` is found by every one of them (a
 * deposit to a BankAccount by ann, correlated c-1); a `miss` by none (a withdrawal from
 * a Card by bob, correlated c-2). So each test works for whichever index it is given.
 */
const VALUE: Readonly<Record<IndexName, string>> = {
  eventType: 'Deposited',
  aggregateType: REF.type,
  user: 'ann',
  correlation: 'c-1',
};

const match = (amount: number): EventInput<BankEvent> => ({
  type: 'Deposited',
  data: { amount },
  metadata: { userId: 'ann', correlationId: 'c-1' },
});
const miss = (amount: number): EventInput<BankEvent> => ({
  type: 'Withdrawn',
  data: { amount },
  metadata: { userId: 'bob', correlationId: 'c-2' },
});
const MISS_REF = { type: 'Card', id: REF.id } as const;

const pageAmounts = (page: QueryPage<BankEvent>) =>
  page.events.map((e) => (e.type === 'Deposited' || e.type === 'Withdrawn' ? e.data.amount : 0));

/** Every page of a query, following cursors; checks each page's size. */
const allPages = async (
  store: EventStore<BankEvent>,
  index: IndexName,
  limit: number,
): Promise<QueryPage<BankEvent>[]> => {
  const pages: QueryPage<BankEvent>[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.query(index, VALUE[index], {
      limit,
      ...(cursor === undefined ? {} : { cursor }),
    });
    expect(page.events.length).toBeLessThanOrEqual(limit);
    pages.push(page);
    cursor = page.cursor;
    expect(pages.length, 'the query pages end').toBeLessThan(50);
  } while (cursor !== undefined);
  return pages;
};

/**
 * Appends matches to two streams of the REF type and misses to a Card stream,
 * interleaved, with a pause between appends so that timestamps differ: returns the
 * matches' events in append order.
 */
const history = async (store: EventStore<BankEvent>): Promise<RecordedEvent<BankEvent>[]> => {
  const a = store.stream(REF);
  const b = store.stream({ type: REF.type, id: 'b' });
  const card = store.stream(MISS_REF);
  await a.append(match(1));
  await card.append(miss(100));
  await pause(5);
  await b.append([match(2), match(3)]);
  await pause(5);
  await card.append(miss(200));
  await a.append(match(4));
  await pause(5);
  await b.append(match(5));
  const events = [...(await a.read()), ...(await b.read())];
  const order = [1, 2, 3, 4, 5];
  return order.map((n) => events.find((e) => e.type === 'Deposited' && e.data.amount === n)!);
};

/** `store.query`: each index the store declares, time windows, paging. */
export const queryTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  describe('queries', () => {
    for (const index of h.capabilities.indexes) {
      describe(`by ${index}`, () => {
        it(`finds the matching events of every stream, in time order, as their streams hold them`, async () => {
          const store = await h.store();
          const expected = await history(store);
          const page = await store.query(index, VALUE[index]);
          expect(pageAmounts(page)).toEqual([1, 2, 3, 4, 5]);
          expect(asStreamsHoldThem(h, page.events)).toEqual(expected);
          expect(page.cursor).toBeUndefined();
        });

        it('matches values exactly: neither a prefix nor another case finds them', async () => {
          const store = await h.store();
          await history(store);
          const value = VALUE[index];
          for (const other of [value.slice(0, -1), `${value}x`, value.toUpperCase()]) {
            expect((await store.query(index, other)).events, other).toEqual([]);
          }
        });

        it('bounds by time: since is inclusive, until exclusive, as numbers or Dates', async () => {
          const store = await h.store();
          const events = await history(store);
          const times = events.map((e) => e.metadata.timestamp);
          // history() paused between appends, so these three are strictly ordered.
          const [t1, t2, t4] = [times[0]!, times[1]!, times[3]!];
          expect(t1).toBeLessThan(t2);
          expect(t2).toBeLessThan(t4);
          const amountsIn = async (since?: number | Date, until?: number | Date) =>
            pageAmounts(
              await store.query(index, VALUE[index], {
                ...(since === undefined ? {} : { since }),
                ...(until === undefined ? {} : { until }),
              }),
            );
          expect(await amountsIn(t2)).toEqual([2, 3, 4, 5]);
          expect(await amountsIn(undefined, t2)).toEqual([1]);
          expect(await amountsIn(t2, t4)).toEqual([2, 3]);
          expect(await amountsIn(new Date(t2), new Date(t4))).toEqual([2, 3]);
          expect(await amountsIn(t2, t2)).toEqual([]);
          expect(await amountsIn(times[4]! + 1)).toEqual([]);
        });

        it('pages with limit and cursor visit every match once; the last page has no cursor', async () => {
          const store = await h.store();
          const expected = await history(store);
          for (const limit of [1, 2, 4, 5]) {
            const pages = await allPages(store, index, limit);
            expect(
              asStreamsHoldThem(
                h,
                pages.flatMap((p) => p.events),
              ),
              `limit ${limit}`,
            ).toEqual(expected);
            expect(pages.at(-1)!.cursor).toBeUndefined();
          }
        });

        it('a cursor resumes after events appended since its page', async () => {
          const store = await h.store();
          await history(store);
          const first = await store.query(index, VALUE[index], { limit: 3 });
          expect(pageAmounts(first)).toEqual([1, 2, 3]);
          await store.stream(REF).append(match(6));
          const rest = await store.query(index, VALUE[index], { cursor: first.cursor! });
          expect(pageAmounts(rest)).toEqual([4, 5, 6]);
          expect(rest.cursor).toBeUndefined();
        });

        it('a query of nothing is an empty last page', async () => {
          const store = await h.store();
          const page = await store.query(index, VALUE[index]);
          expect(page.events).toEqual([]);
          expect(page.cursor).toBeUndefined();
        });

        it('refuses a limit outside 1..1000 and an inverted time window (INVALID_ARGUMENT)', async () => {
          const store = await h.store();
          const bad: readonly (readonly [object, string])[] = [
            [{ limit: 0 }, 'options.limit'],
            [{ limit: 1001 }, 'options.limit'],
            [{ limit: 2.5 }, 'options.limit'],
            [{ since: 20, until: 10 }, 'options.since'],
          ];
          for (const [options, field] of bad) {
            const error = await caught<InvalidArgumentError>(
              () => store.query(index, VALUE[index], options),
              isInvalidArgumentError,
            );
            expect(error.field, JSON.stringify(options)).toBe(field);
          }
        });
      });
    }

    if (h.capabilities.indexes.length > 0) {
      it('an index name the store does not know is INVALID_ARGUMENT naming index', async () => {
        const store = await h.store();
        const error = await caught<InvalidArgumentError>(
          () => store.query('nope' as IndexName, 'x'),
          isInvalidArgumentError,
        );
        expect(error.field).toBe('index');
      });
    }

    // What a store does not declare, it refuses: never an empty answer that looks like "no
    // such events".
    for (const index of ALL_INDEXES.filter((i) => !h.capabilities.indexes.includes(i))) {
      it(`does not declare ${index}: a query by it is refused with INVALID_ARGUMENT`, async () => {
        const store = await h.store();
        await history(store);
        await caught(() => store.query(index, VALUE[index]), isInvalidArgumentError);
      });
    }

    if (h.capabilities.indexes.length > 0) {
      it("a store's queries never find another store's events", async () => {
        const [store, other] = [await h.store(), await h.store()];
        await history(other);
        for (const index of h.capabilities.indexes) {
          expect((await store.query(index, VALUE[index])).events, index).toEqual([]);
        }
      });
    }
  });
};
