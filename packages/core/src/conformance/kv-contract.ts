import { describe, expect, it } from 'vitest';
import { isKvConditionError } from '../errors.js';
import { kvCommit, kvScan } from '../kv/access.js';
import type { Kv, KvCommit, KvScan, KvValue } from '../kv/types.js';
import { type ConformanceOptions, caught, useHarness } from './harness.js';

const condition = (op: Promise<unknown>) => caught(op, isKvConditionError);

// The two primitives, called directly: these tests are of the adapter itself.
const commit = (kv: Kv, change: KvCommit): Promise<void> => kv.write([], () => change);
const get = async (kv: Kv, keys: readonly string[]): Promise<(KvValue | undefined)[]> =>
  (await kv.read(keys)).values;
const scan = async (kv: Kv, range: KvScan) => (await kv.read([], () => range)).entries;

const put = (kv: Kv, entries: Record<string, unknown>, atomic: boolean): Promise<void> =>
  atomic
    ? commit(kv, { puts: Object.entries(entries).map(([key, value]) => ({ key, value })) })
    : Object.entries(entries).reduce<Promise<void>>(
        (done, [key, value]) => done.then(() => commit(kv, { puts: [{ key, value }] })),
        Promise.resolve(),
      );

const keysOf = async (kv: Kv, range: KvScan): Promise<string[]> =>
  (await scan(kv, range)).map((e) => e.key);

/**
 * The KV contract every adapter implements: point reads with an ordered range read
 * derived from them, and conditional writes (atomic across keys where the adapter
 * declares it); records found by their index keys, kept by the adapter or emulated by
 * core (the index tests go through core's own access functions, as the store does).
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
      expect(await get(kv, ['a/2', 'missing', 'a/1', 'a/2'])).toEqual([
        'two',
        undefined,
        { n: 1 },
        'two',
      ]);
      expect(await get(kv, [])).toEqual([]);
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
      expect((await get(kv, ['v']))[0]).toEqual(value);
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
        expect((await scan(kv, { prefix: 's/e/' })).map((x) => x.value)).toEqual([1, 2, 9, 10, 11]);
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

      it('keys: false answers the same values in the same order, keys as read or empty', async () => {
        const { kv } = await setup();
        await fill(kv);
        for (const range of [
          { prefix: 's/e/' },
          { prefix: 's/e/', start: e(2), end: e(11), limit: 2 },
          { prefix: 's/e/', reverse: true },
          { prefix: 's/e/', reverse: true, limit: 2 },
        ] satisfies KvScan[]) {
          const withKeys = await scan(kv, range);
          const valuesOnly = await scan(kv, { ...range, keys: false });
          expect(valuesOnly.map((entry) => entry.value)).toEqual(withKeys.map((x) => x.value));
          valuesOnly.forEach((entry, i) => {
            expect(['', withKeys[i]?.key]).toContain(entry.key);
          });
        }
        expect(await scan(kv, { prefix: 's/x/', keys: false })).toEqual([]);
      });

      it('reads nothing from an empty store', async () => {
        const { kv } = await setup();
        expect(await scan(kv, {})).toEqual([]);
        expect(await scan(kv, { prefix: 'a/', reverse: true, limit: 1 })).toEqual([]);
      });
    });

    describe('read: point reads, then a planned range in the same read', () => {
      // The path core takes for every stream read: the head, then the events it covers.
      const readThen = async (
        kv: Kv,
        keys: readonly string[],
        then: (values: unknown[]) => KvScan | undefined,
      ) => (await kv.read(keys, then)).entries;

      it('plans the range from the values as read and returns its entries', async () => {
        const { kv } = await setup();
        await put(kv, { head: { last: 3 }, 'e/1': 1, 'e/2': 2, 'e/3': 3, 'e/4': 4 }, atomic);
        let seen: unknown[] = [];
        const read = await kv.read(['head', 'missing'], (values) => {
          seen = values;
          const last = (values[0] as { last: number }).last;
          return { prefix: 'e/', end: `e/${last + 1}`, reverse: true, limit: 2 };
        });
        expect(seen).toEqual([{ last: 3 }, undefined]);
        expect(read.values).toEqual([{ last: 3 }, undefined]);
        expect(read.entries.map(({ key, value }) => ({ key, value }))).toEqual([
          { key: 'e/3', value: 3 },
          { key: 'e/2', value: 2 },
        ]);
      });

      it('reads no range when the plan returns none; a plan that throws fails the read', async () => {
        const { kv } = await setup();
        await put(kv, { 'e/1': 1 }, atomic);
        expect(await readThen(kv, ['head'], () => undefined)).toEqual([]);
        const refusal = new Error('plan refused');
        const error = await caught(
          readThen(kv, ['head'], () => {
            throw refusal;
          }),
          (e): e is Error => e instanceof Error,
        );
        // The plan's own error, or a StorageError carrying it.
        expect(error === refusal || error.cause === refusal).toBe(true);
      });
    });

    describe('index keys (kept by the adapter, or emulated by core)', () => {
      const record = (key: string, indexKeys: string[], value: unknown = { key }) => ({
        key,
        value,
        indexKeys,
      });
      const byIndex = async (kv: Kv, range: Omit<KvScan, 'by'>) =>
        (await kvScan(kv, { ...range, by: 'index' })).map((e) => [e.indexKey, e.key]);

      it('finds each record under its index keys, in index-key order, with every bound', async () => {
        const { kv } = await setup();
        await kvCommit(kv, {
          puts: [
            record('r/2', ['x/b/0002', 'y/only-2']),
            record('r/1', ['x/b/0001', 'x/a/0009']),
            { key: 'r/3', value: 'no index keys' },
          ],
        });
        await kvCommit(kv, { puts: [record('r/4', ['x/b/0010'])] });
        expect(await byIndex(kv, { prefix: 'x/b/' })).toEqual([
          ['x/b/0001', 'r/1'],
          ['x/b/0002', 'r/2'],
          ['x/b/0010', 'r/4'],
        ]);
        expect(await byIndex(kv, { prefix: 'x/' })).toHaveLength(4);
        expect(await byIndex(kv, { prefix: 'x/b/', start: 'x/b/0002', end: 'x/b/0010' })).toEqual([
          ['x/b/0002', 'r/2'],
        ]);
        expect(await byIndex(kv, { prefix: 'x/b/', reverse: true, limit: 2 })).toEqual([
          ['x/b/0010', 'r/4'],
          ['x/b/0002', 'r/2'],
        ]);
        expect(await byIndex(kv, { start: 'x/b/0001', end: 'x/b/0001 ' })).toEqual([
          ['x/b/0001', 'r/1'],
        ]);
        expect(await byIndex(kv, { prefix: 'zz/' })).toEqual([]);
        const [entry] = await kvScan(kv, { by: 'index', prefix: 'y/' });
        expect(entry).toEqual({ key: 'r/2', value: { key: 'r/2' }, indexKey: 'y/only-2' });
        // Records are read by key as ever, with their values.
        expect(await get(kv, ['r/1', 'r/3'])).toEqual([{ key: 'r/1' }, 'no index keys']);
        expect(await keysOf(kv, { prefix: 'r/' })).toEqual(['r/1', 'r/2', 'r/3', 'r/4']);
      });

      it('an index key names one record: a second record claiming it fails, naming it', async () => {
        const { kv } = await setup();
        await kvCommit(kv, { puts: [record('r/1', ['u/m1', 'g/1'])] });
        const error = await condition(
          kvCommit(kv, { puts: [{ key: 'other', value: 1 }, record('r/2', ['g/2', 'u/m1'])] }),
        );
        expect(error.keys).toContain('u/m1');
        expect(error.code).toBe('KV_CONDITION_FAILED');
        // Nothing of the failed write stayed (rolled back where it went key by key).
        expect(await get(kv, ['r/2', 'other'])).toEqual([undefined, undefined]);
        expect(await byIndex(kv, {})).toEqual([
          ['g/1', 'r/1'],
          ['u/m1', 'r/1'],
        ]);
      });

      it('two puts of one write claiming one index key fail it whole, naming the key', async () => {
        const { kv } = await setup();
        const error = await condition(
          kvCommit(kv, {
            puts: [record('r/1', ['g/1', 'u/same']), record('r/2', ['u/same', 'g/2'])],
          }),
        );
        expect(error.keys).toContain('u/same');
        expect(await get(kv, ['r/1', 'r/2'])).toEqual([undefined, undefined]);
        expect(await byIndex(kv, {})).toEqual([]);
        // The key is free: one record takes it afterwards.
        await kvCommit(kv, { puts: [record('r/3', ['u/same'])] });
        expect(await byIndex(kv, {})).toEqual([['u/same', 'r/3']]);
      });

      it('a failed check holds back the records and their index keys', async () => {
        const { kv } = await setup();
        await put(kv, { head: 1 }, atomic);
        await condition(
          kvCommit(kv, {
            checks: [{ key: 'head', absent: true }],
            puts: [record('r/1', ['i/1'])],
          }),
        );
        expect(await byIndex(kv, {})).toEqual([]);
        expect(await get(kv, ['r/1'])).toEqual([undefined]);
      });
    });

    describe('write', () => {
      it('applies puts and deletes', async () => {
        const { kv } = await setup();
        await commit(kv, { puts: [{ key: 'k', value: 1 }] });
        await commit(kv, { deletes: ['k'] });
        await commit(kv, { puts: [{ key: 'j', value: { v: 2 } }] });
        expect(await get(kv, ['k', 'j'])).toEqual([undefined, { v: 2 }]);
        await commit(kv, { deletes: ['never-existed'] });
      });

      it('an absent check passes on a missing key and fails on a present one', async () => {
        const { kv } = await setup();
        await commit(kv, { checks: [{ key: 'k', absent: true }], puts: [{ key: 'k', value: 1 }] });
        const error = await condition(
          commit(kv, { checks: [{ key: 'k', absent: true }], puts: [{ key: 'k', value: 2 }] }),
        );
        expect(error.keys).toEqual(['k']);
        expect(error.code).toBe('KV_CONDITION_FAILED');
        expect(await get(kv, ['k'])).toEqual([1]);
      });

      it('an equals check compares values deeply and fails on a missing key', async () => {
        const { kv } = await setup();
        const head = { version: 3, timestamp: 1000 };
        await commit(kv, { puts: [{ key: 'h', value: head }] });
        await commit(kv, {
          checks: [{ key: 'h', equals: { timestamp: 1000, version: 3 } }],
          puts: [{ key: 'h', value: { version: 4, timestamp: 1001 } }],
        });
        for (const stale of [head, { version: 4 }, { version: 4, timestamp: 1001, extra: 1 }, 4]) {
          await condition(
            commit(kv, { checks: [{ key: 'h', equals: stale }], puts: [{ key: 'h', value: 0 }] }),
          );
        }
        await condition(
          commit(kv, { checks: [{ key: 'nope', equals: 1 }], puts: [{ key: 'nope', value: 2 }] }),
        );
        expect(await get(kv, ['h', 'nope'])).toEqual([{ version: 4, timestamp: 1001 }, undefined]);
      });

      it('a failed condition on a delete leaves the key', async () => {
        const { kv } = await setup();
        await commit(kv, { puts: [{ key: 'lease', value: { sessionId: 'a', expiresAt: 5 } }] });
        await condition(
          commit(kv, {
            checks: [{ key: 'lease', equals: { sessionId: 'b', expiresAt: 5 } }],
            deletes: ['lease'],
          }),
        );
        expect(await get(kv, ['lease'])).toEqual([{ sessionId: 'a', expiresAt: 5 }]);
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
            await commit(kv, { puts: [{ key: 'old', value: 1 }] });
            await commit(kv, { ...big, deletes: ['old'], checks: [{ key: 'old', equals: 1 }] });
            expect(await scan(kv, { prefix: 'e/' })).toHaveLength(50);
            expect(await get(kv, ['old'])).toEqual([undefined]);
          });

          it('applies nothing when any check fails, and names every failed key', async () => {
            const { kv } = await setup();
            await commit(kv, {
              puts: [
                { key: 'head', value: { version: 1 } },
                { key: 'taken', value: 1 },
              ],
            });
            const error = await condition(
              commit(kv, {
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
            expect(await scan(kv, { prefix: 'e/' })).toEqual([]);
            expect(await get(kv, ['head'])).toEqual([{ version: 1 }]);
          });

          it('one of two racing conditional commits wins, the other applies nothing', async () => {
            const { kv } = await setup();
            const claim = (who: string) =>
              commit(kv, {
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
            const [head] = await get(kv, ['head']);
            const winner = (head as { who: string }).who;
            expect(await keysOf(kv, { prefix: 'by/' })).toEqual([`by/${winner}`]);
          });
        });

        describe('read-modify-write (write with point reads, in one transaction)', () => {
          // The path core takes for every append.
          const update = (
            kv: Kv,
            keys: readonly string[],
            plan: (values: unknown[]) => KvCommit | undefined,
          ): Promise<void> => kv.write(keys, plan);

          it('plans from the values as read and applies the planned commit', async () => {
            const { kv } = await setup();
            await commit(kv, { puts: [{ key: 'n', value: { n: 1 } }] });
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
            expect(await get(kv, ['n', 'other'])).toEqual([{ n: 2 }, 'x']);
          });

          it('a plan that returns nothing writes nothing; one that throws aborts all', async () => {
            const { kv } = await setup();
            await update(kv, ['a'], () => undefined);
            expect(await get(kv, ['a'])).toEqual([undefined]);
            const refusal = new Error('plan refused');
            const error = await caught(
              update(kv, ['a'], () => {
                throw refusal;
              }),
              (e): e is Error => e instanceof Error,
            );
            // The plan's own error, or a StorageError carrying it.
            expect(error === refusal || error.cause === refusal).toBe(true);
            expect(await scan(kv, {})).toEqual([]);
          });

          it("the planned commit's checks still hold it back, applying nothing", async () => {
            const { kv } = await setup();
            await commit(kv, { puts: [{ key: 'taken', value: 1 }] });
            const error = await condition(
              update(kv, [], () => ({
                checks: [{ key: 'taken', absent: true }],
                puts: [{ key: 'mine', value: 1 }],
              })),
            );
            expect(error.keys).toEqual(['taken']);
            expect(await get(kv, ['mine'])).toEqual([undefined]);
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
            expect(await get(kv, ['counter'])).toEqual([10]);
          });
        });
      }
    });
  });
};
