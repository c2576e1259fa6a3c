import { describe, expect, it } from 'vitest';
import { isKvConditionError } from '../errors.js';
import type { Kv, KvCommit } from '../kv/types.js';
import { type ConformanceOptions, caught, useHarness } from './harness.js';

const condition = (op: Promise<unknown>) => caught(op, isKvConditionError);

const put = (kv: Kv, entries: Record<string, unknown>, atomic: boolean): Promise<void> =>
  atomic
    ? kv.commit({ puts: Object.entries(entries).map(([key, value]) => ({ key, value })) })
    : Object.entries(entries).reduce<Promise<void>>(
        (done, [key, value]) => done.then(() => kv.commit({ puts: [{ key, value }] })),
        Promise.resolve(),
      );

const keysOf = async (kv: Kv, scan: Parameters<Kv['scan']>[0]): Promise<string[]> =>
  (await kv.scan(scan)).map((e) => e.key);

/**
 * The KV contract every adapter implements: batched point reads, ordered range scans,
 * and conditional commits (atomic across keys where the adapter declares it).
 */
export const kvContractTests = (options: ConformanceOptions): void => {
  const { atomic } = options.capabilities;
  describe('KV contract', () => {
    const setup = useHarness(options);

    it('declares the capabilities the suite was told about', async () => {
      const { kv } = await setup();
      expect(kv.capabilities).toMatchObject(options.capabilities);
    });

    it('get returns one result per key, in order, undefined for missing keys', async () => {
      const { kv } = await setup();
      await put(kv, { 'a/1': { n: 1 }, 'a/2': 'two' }, atomic);
      expect(await kv.get(['a/2', 'missing', 'a/1', 'a/2'])).toEqual([
        'two',
        undefined,
        { n: 1 },
        'two',
      ]);
      expect(await kv.get([])).toEqual([]);
    });

    it('stores structured values: Dates, BigInt, Map, Set, nested arrays', async () => {
      const { kv } = await setup();
      const value = {
        when: new Date(Date.UTC(2026, 0, 2)),
        big: 2n ** 70n,
        map: new Map([['k', [1, 2]]]),
        set: new Set(['x']),
        nested: [{ a: null, b: true }],
      };
      await put(kv, { v: value }, atomic);
      expect((await kv.get(['v']))[0]).toEqual(value);
    });

    describe('scan', () => {
      const fill = async (kv: Kv) => {
        // Zero-padded numbers, as core builds them: version 10 sorts after version 9.
        const entries: Record<string, number> = {};
        for (const n of [1, 2, 9, 10, 11]) entries[`s/e/${String(n).padStart(16, '0')}`] = n;
        entries['s/d'] = 0;
        entries['s/f'] = 99;
        entries['s/e2/0000000000000001'] = -1;
        await put(kv, entries, atomic);
      };
      const e = (n: number) => `s/e/${String(n).padStart(16, '0')}`;

      it('returns keys in ascending order, every key once', async () => {
        const { kv } = await setup();
        await fill(kv);
        expect(await keysOf(kv, {})).toEqual([
          's/d',
          e(1),
          e(2),
          e(9),
          e(10),
          e(11),
          's/e2/0000000000000001',
          's/f',
        ]);
      });

      it('prefix matches exactly the keys that start with it', async () => {
        const { kv } = await setup();
        await fill(kv);
        expect(await keysOf(kv, { prefix: 's/e/' })).toEqual([e(1), e(2), e(9), e(10), e(11)]);
        expect((await kv.scan({ prefix: 's/e/' })).map((x) => x.value)).toEqual([1, 2, 9, 10, 11]);
        expect(await keysOf(kv, { prefix: 'zz/' })).toEqual([]);
      });

      it('start is inclusive and end exclusive, combined with a prefix', async () => {
        const { kv } = await setup();
        await fill(kv);
        expect(await keysOf(kv, { prefix: 's/e/', start: e(2), end: e(11) })).toEqual([
          e(2),
          e(9),
          e(10),
        ]);
        expect(await keysOf(kv, { start: e(10) })).toEqual([
          e(10),
          e(11),
          's/e2/0000000000000001',
          's/f',
        ]);
        expect(await keysOf(kv, { end: e(2) })).toEqual(['s/d', e(1)]);
        expect(await keysOf(kv, { start: e(9), end: e(9) })).toEqual([]);
        expect(await keysOf(kv, { start: e(10), end: e(9) })).toEqual([]);
        expect(await keysOf(kv, { prefix: 's/e/', start: 'a', end: 'z' })).toHaveLength(5);
      });

      it('reverse returns descending order and limit counts from the end', async () => {
        const { kv } = await setup();
        await fill(kv);
        expect(await keysOf(kv, { prefix: 's/e/', reverse: true })).toEqual([
          e(11),
          e(10),
          e(9),
          e(2),
          e(1),
        ]);
        expect(await keysOf(kv, { prefix: 's/e/', reverse: true, limit: 2 })).toEqual([
          e(11),
          e(10),
        ]);
        expect(await keysOf(kv, { prefix: 's/e/', end: e(10), reverse: true, limit: 2 })).toEqual([
          e(9),
          e(2),
        ]);
        expect(await keysOf(kv, { start: e(11), reverse: true })).toEqual([
          's/f',
          's/e2/0000000000000001',
          e(11),
        ]);
      });

      it('limit bounds the result in both directions', async () => {
        const { kv } = await setup();
        await fill(kv);
        expect(await keysOf(kv, { prefix: 's/e/', limit: 3 })).toEqual([e(1), e(2), e(9)]);
        expect(await keysOf(kv, { prefix: 's/e/', limit: 100 })).toHaveLength(5);
        expect(await keysOf(kv, { prefix: 's/e/', start: e(10), limit: 1 })).toEqual([e(10)]);
      });

      it('reads nothing from an empty store', async () => {
        const { kv } = await setup();
        expect(await kv.scan({})).toEqual([]);
        expect(await kv.scan({ prefix: 'a/', reverse: true, limit: 1 })).toEqual([]);
      });
    });

    describe('point reads, then a planned range (Kv.getThenScan where offered, else get + scan)', () => {
      // The path core takes for every stream read: the head, then the events it covers.
      const getThenScan = (
        kv: Kv,
        keys: readonly string[],
        plan: (values: unknown[]) => Parameters<Kv['scan']>[0] | undefined,
      ) =>
        kv.getThenScan
          ? kv.getThenScan(keys, plan)
          : kv.get(keys).then((values) => {
              const range = plan(values);
              return range ? kv.scan(range) : [];
            });

      it('plans the range from the values as read and returns its entries', async () => {
        const { kv } = await setup();
        await put(kv, { head: { last: 3 }, 'e/1': 1, 'e/2': 2, 'e/3': 3, 'e/4': 4 }, atomic);
        let seen: unknown[] = [];
        const entries = await getThenScan(kv, ['head', 'missing'], (values) => {
          seen = values;
          const last = (values[0] as { last: number }).last;
          return { prefix: 'e/', end: `e/${last + 1}`, reverse: true, limit: 2 };
        });
        expect(seen).toEqual([{ last: 3 }, undefined]);
        expect(entries).toEqual([
          { key: 'e/3', value: 3 },
          { key: 'e/2', value: 2 },
        ]);
      });

      it('reads no range when the plan returns none; a plan that throws fails the read', async () => {
        const { kv } = await setup();
        await put(kv, { 'e/1': 1 }, atomic);
        expect(await getThenScan(kv, ['head'], () => undefined)).toEqual([]);
        const refusal = new Error('plan refused');
        const error = await caught(
          getThenScan(kv, ['head'], () => {
            throw refusal;
          }),
          (e): e is Error => e instanceof Error,
        );
        // The plan's own error, or a StorageError carrying it.
        expect(error === refusal || error.cause === refusal).toBe(true);
      });
    });

    describe('commit', () => {
      it('applies puts and deletes', async () => {
        const { kv } = await setup();
        await kv.commit({ puts: [{ key: 'k', value: 1 }] });
        await kv.commit({ deletes: ['k'] });
        await kv.commit({ puts: [{ key: 'j', value: { v: 2 } }] });
        expect(await kv.get(['k', 'j'])).toEqual([undefined, { v: 2 }]);
        await kv.commit({ deletes: ['never-existed'] });
      });

      it('an absent check passes on a missing key and fails on a present one', async () => {
        const { kv } = await setup();
        await kv.commit({ checks: [{ key: 'k', absent: true }], puts: [{ key: 'k', value: 1 }] });
        const error = await condition(
          kv.commit({ checks: [{ key: 'k', absent: true }], puts: [{ key: 'k', value: 2 }] }),
        );
        expect(error.keys).toEqual(['k']);
        expect(error.code).toBe('KV_CONDITION_FAILED');
        expect(await kv.get(['k'])).toEqual([1]);
      });

      it('an equals check compares values deeply and fails on a missing key', async () => {
        const { kv } = await setup();
        const head = { version: 3, timestamp: 1000 };
        await kv.commit({ puts: [{ key: 'h', value: head }] });
        await kv.commit({
          checks: [{ key: 'h', equals: { timestamp: 1000, version: 3 } }],
          puts: [{ key: 'h', value: { version: 4, timestamp: 1001 } }],
        });
        for (const stale of [head, { version: 4 }, { version: 4, timestamp: 1001, extra: 1 }, 4]) {
          await condition(
            kv.commit({ checks: [{ key: 'h', equals: stale }], puts: [{ key: 'h', value: 0 }] }),
          );
        }
        await condition(
          kv.commit({ checks: [{ key: 'nope', equals: 1 }], puts: [{ key: 'nope', value: 2 }] }),
        );
        expect(await kv.get(['h', 'nope'])).toEqual([{ version: 4, timestamp: 1001 }, undefined]);
      });

      it('a failed condition on a delete leaves the key', async () => {
        const { kv } = await setup();
        await kv.commit({ puts: [{ key: 'lease', value: { sessionId: 'a', expiresAt: 5 } }] });
        await condition(
          kv.commit({
            checks: [{ key: 'lease', equals: { sessionId: 'b', expiresAt: 5 } }],
            deletes: ['lease'],
          }),
        );
        expect(await kv.get(['lease'])).toEqual([{ sessionId: 'a', expiresAt: 5 }]);
      });

      if (atomic) {
        describe('atomicity (declared: atomic)', () => {
          const big: KvCommit = {
            puts: Array.from({ length: 50 }, (_, i) => ({
              key: `e/${String(i).padStart(4, '0')}`,
              value: { i },
            })),
          };

          it('applies every put and delete of a commit together', async () => {
            const { kv } = await setup();
            await kv.commit({ puts: [{ key: 'old', value: 1 }] });
            await kv.commit({ ...big, deletes: ['old'], checks: [{ key: 'old', equals: 1 }] });
            expect(await kv.scan({ prefix: 'e/' })).toHaveLength(50);
            expect(await kv.get(['old'])).toEqual([undefined]);
          });

          it('applies nothing when any check fails, and names every failed key', async () => {
            const { kv } = await setup();
            await kv.commit({
              puts: [
                { key: 'head', value: { version: 1 } },
                { key: 'taken', value: 1 },
              ],
            });
            const error = await condition(
              kv.commit({
                ...big,
                checks: [
                  { key: 'head', equals: { version: 1 } },
                  { key: 'taken', absent: true },
                  { key: 'free', absent: true },
                  { key: 'missing', equals: 1 },
                ],
                deletes: ['head'],
              }),
            );
            expect([...error.keys].sort()).toEqual(['missing', 'taken']);
            expect(await kv.scan({ prefix: 'e/' })).toEqual([]);
            expect(await kv.get(['head'])).toEqual([{ version: 1 }]);
          });

          it('one of two racing conditional commits wins, the other applies nothing', async () => {
            const { kv } = await setup();
            const claim = (who: string) =>
              kv.commit({
                checks: [{ key: 'head', absent: true }],
                puts: [
                  { key: 'head', value: { who } },
                  { key: `by/${who}`, value: who },
                ],
              });
            const results = await Promise.allSettled([claim('a'), claim('b'), claim('c')]);
            expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
            for (const r of results) {
              if (r.status === 'rejected') expect(isKvConditionError(r.reason)).toBe(true);
            }
            const [head] = await kv.get(['head']);
            const winner = (head as { who: string }).who;
            expect(await keysOf(kv, { prefix: 'by/' })).toEqual([`by/${winner}`]);
          });
        });

        describe('read-modify-write (Kv.update where offered, else get + commit)', () => {
          // The path core takes for every append: the adapter's own `update` (one
          // transaction) when it has one, else a read followed by a conditional commit.
          const update = (
            kv: Kv,
            keys: readonly string[],
            plan: (values: unknown[]) => KvCommit | undefined,
          ): Promise<void> =>
            kv.update
              ? kv.update(keys, plan)
              : kv.get(keys).then((values) => {
                  const commit = plan(values);
                  return commit ? kv.commit(commit) : undefined;
                });

          it('plans from the values as read and applies the planned commit', async () => {
            const { kv } = await setup();
            await kv.commit({ puts: [{ key: 'n', value: { n: 1 } }] });
            let seen: unknown[] = [];
            await update(kv, ['n', 'missing'], (values) => {
              seen = values;
              return {
                checks: [{ key: 'n', equals: values[0] }],
                puts: [
                  { key: 'n', value: { n: (values[0] as { n: number }).n + 1 } },
                  { key: 'other', value: 'x' },
                ],
              };
            });
            expect(seen).toEqual([{ n: 1 }, undefined]);
            expect(await kv.get(['n', 'other'])).toEqual([{ n: 2 }, 'x']);
          });

          it('a plan that returns nothing writes nothing; one that throws aborts all', async () => {
            const { kv } = await setup();
            await update(kv, ['a'], () => undefined);
            expect(await kv.get(['a'])).toEqual([undefined]);
            const refusal = new Error('plan refused');
            const error = await caught(
              update(kv, ['a'], () => {
                throw refusal;
              }),
              (e): e is Error => e instanceof Error,
            );
            // The plan's own error, or a StorageError carrying it.
            expect(error === refusal || error.cause === refusal).toBe(true);
            expect(await kv.scan({})).toEqual([]);
          });

          it("the planned commit's checks still hold it back, applying nothing", async () => {
            const { kv } = await setup();
            await kv.commit({ puts: [{ key: 'taken', value: 1 }] });
            const error = await condition(
              update(kv, [], () => ({
                checks: [{ key: 'taken', absent: true }],
                puts: [{ key: 'mine', value: 1 }],
              })),
            );
            expect(error.keys).toEqual(['taken']);
            expect(await kv.get(['mine'])).toEqual([undefined]);
          });

          it('racing read-modify-writes never lose an update (retrying on conditions)', async () => {
            const { kv } = await setup();
            const increment = async (): Promise<void> => {
              for (;;) {
                try {
                  await update(kv, ['counter'], ([value]) => ({
                    checks: [
                      value === undefined
                        ? { key: 'counter', absent: true }
                        : { key: 'counter', equals: value },
                    ],
                    puts: [{ key: 'counter', value: ((value as number | undefined) ?? 0) + 1 }],
                  }));
                  return;
                } catch (error) {
                  if (!isKvConditionError(error)) throw error;
                }
              }
            };
            await Promise.all(Array.from({ length: 10 }, increment));
            expect(await kv.get(['counter'])).toEqual([10]);
          });
        });
      }
    });
  });
};
