import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEventStore, createMemoryKv } from '../src/index.js';
import { kvCommit, kvGet, kvScan, resolveRange } from '../src/kv/index.js';

// What only the memory adapter does: it shares stored records with readers instead of
// copying them, so core freezes them, and copies those that freezing cannot protect.
describe('memory adapter: shared, frozen records', () => {
  type Ev =
    | { type: 'Plain'; data: { amount: number; tags: string[] } }
    | { type: 'Dated'; data: { at: Date; seen: Map<string, number> } };
  const ref = { type: 'A', id: '1' };

  it('hands out events deeply frozen, the same object on every read (no copy)', async () => {
    const stream = createEventStore<Ev>({ kv: createMemoryKv() }).stream(ref);
    await stream.append({ type: 'Plain', data: { amount: 1, tags: ['x'] } });
    const [first] = await stream.read();
    const [again] = await stream.read();
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first?.metadata)).toBe(true);
    if (first?.type !== 'Plain') throw new Error('expected a Plain event');
    expect(Object.isFrozen(first.data)).toBe(true);
    expect(() => first.data.tags.push('y')).toThrow(TypeError);
  });

  it('copies records holding Dates or Maps on every read, since freezing cannot protect them', async () => {
    const stream = createEventStore<Ev>({ kv: createMemoryKv() }).stream(ref);
    await stream.append({ type: 'Dated', data: { at: new Date(1000), seen: new Map([['a', 1]]) } });
    const [first] = await stream.read();
    const [again] = await stream.read();
    expect(again).not.toBe(first);
    if (first?.type !== 'Dated') throw new Error('expected a Dated event');
    first.data.at.setTime(5);
    first.data.seen.set('b', 2);
    expect(again?.data).toEqual({ at: new Date(1000), seen: new Map([['a', 1]]) });
  });
});

// The adapter keeps its keys in short sorted lists that split and join as keys come and
// go (src/memory/sorted-keys.ts). Thousands of random puts and deletes, many landing in the same
// few lists, must leave every scan equal to sorting the surviving keys.
describe('memory adapter: key order under random puts and deletes', () => {
  const prefixArb = fc.constantFrom('a/', 'a/b/', 'b!', 'e/x/', '\uffff');
  const numbered = (prefix: string, n: number) => prefix + String(n).padStart(3, '0');
  const keyArb = fc.oneof(
    // Few prefixes, many suffixes: lists fill, split, empty and join.
    {
      arbitrary: fc
        .tuple(prefixArb, fc.integer({ min: 0, max: 400 }))
        .map(([p, n]) => numbered(p, n)),
      weight: 4,
    },
    { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }), weight: 1 },
  );
  // A run of neighbouring keys: lists fill and split, or shrink, empty and are joined.
  const runArb = (most: number) =>
    fc
      .tuple(prefixArb, fc.integer({ min: 0, max: 400 }), fc.integer({ min: 1, max: most }))
      .map(([p, from, count]) => Array.from({ length: count }, (_, i) => numbered(p, from + i)));
  const opArb = fc.oneof(
    fc.array(keyArb, { minLength: 1, maxLength: 60 }).map((puts) => ({ puts })),
    runArb(150).map((puts) => ({ puts })),
    // Point reads between writes (the adapter remembers where its last read looked).
    fc.array(keyArb, { minLength: 1, maxLength: 5 }).map((gets) => ({ gets })),
    // Conditional puts: each key is looked up by its check, then written, as appends do.
    fc.array(keyArb, { minLength: 1, maxLength: 20 }).map((puts) => ({ puts, checked: true })),
    fc.array(keyArb, { minLength: 1, maxLength: 60 }).map((deletes) => ({ deletes })),
    runArb(60).map((deletes) => ({ deletes })),
  );
  const scanArb = fc.record(
    {
      start: keyArb,
      end: keyArb,
      prefix: fc.constantFrom('a/', 'a/b/', 'b', 'e/', ''),
      reverse: fc.boolean(),
      limit: fc.integer({ min: 0, max: 300 }),
    },
    { requiredKeys: [] },
  );

  it('scans return exactly the stored keys in order, in both directions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 60, size: 'max' }),
        fc.array(scanArb, { minLength: 1, maxLength: 20, size: 'max' }),
        async (ops, scans) => {
          const kv = createMemoryKv();
          const model = new Map<string, number>();
          let n = 0;
          for (const op of ops) {
            if ('puts' in op) {
              const puts = [...new Set(op.puts)].map((key) => ({ key, value: ++n }));
              const checks =
                'checked' in op
                  ? puts.map(({ key }) =>
                      model.has(key)
                        ? { key, equals: model.get(key) }
                        : { key, absent: true as const },
                    )
                  : [];
              await kvCommit(kv, { checks, puts });
              for (const { key, value } of puts) model.set(key, value);
            } else if ('gets' in op) {
              expect(await kvGet(kv, op.gets)).toEqual(op.gets.map((key) => model.get(key)));
            } else {
              const deletes = [...new Set(op.deletes)];
              await kvCommit(kv, { deletes });
              for (const key of deletes) model.delete(key);
            }
          }
          const sorted = [...model.keys()].sort();
          expect((await kvScan(kv, {})).map((e) => e.key)).toEqual(sorted);
          for (const scan of scans) {
            const { start, end } = resolveRange(scan);
            let expected = sorted.filter(
              (k) => (start === undefined || k >= start) && (end === undefined || k < end),
            );
            if (scan.reverse) expected = expected.reverse();
            if (scan.limit !== undefined) expected = expected.slice(0, scan.limit);
            const got = await kvScan(kv, scan);
            expect(got.map((e) => e.key)).toEqual(expected);
            expect(got.map((e) => e.value)).toEqual(expected.map((k) => model.get(k)));
          }
          expect(await kvGet(kv, sorted)).toEqual(sorted.map((k) => model.get(k)));
        },
      ),
      // Thousands of keys per run make shrinking take minutes: a failure reports its seed
      // and the first counterexample instead.
      { numRuns: 60, endOnFailure: true },
    );
  });

  it('keeps its order while lists shrink and join at the start, the middle and the end', async () => {
    const kv = createMemoryKv();
    const all = Array.from({ length: 1_000 }, (_, i) => numbered('k', i));
    // Shuffled in a fixed order, so lists split in the middle as well as at the end.
    const shuffled = all.map((key, i) => ({ key, rank: (i * 7919) % 1_000 }));
    shuffled.sort((a, b) => a.rank - b.rank);
    await kvCommit(kv, { puts: shuffled.map(({ key }, value) => ({ key, value })) });
    const live = new Set(all);
    const expectOrder = async () => {
      const keys = [...live].sort();
      expect((await kvScan(kv, {})).map((e) => e.key)).toEqual(keys);
      expect((await kvScan(kv, { reverse: true })).map((e) => e.key)).toEqual(keys.reverse());
    };
    await expectOrder();
    // From the end, from the start, then every other key of the middle, then the rest.
    const waves = [
      all.slice(900).reverse(),
      all.slice(0, 100),
      all.slice(100, 900).filter((_, i) => i % 2 === 0),
      all.slice(100, 900).filter((_, i) => i % 2 === 1),
    ];
    for (const wave of waves) {
      for (let i = 0; i < wave.length; i += 7) {
        const deletes = wave.slice(i, i + 7);
        await kvCommit(kv, { deletes });
        for (const key of deletes) live.delete(key);
        await expectOrder();
      }
    }
    expect(await kvScan(kv, {})).toEqual([]);
  });

  it('puts a key in order after reading it, whatever was written or deleted in between', async () => {
    const kv = createMemoryKv();
    const even = Array.from({ length: 600 }, (_, i) => numbered('k', 2 * i));
    await kvCommit(kv, { puts: even.map((key, value) => ({ key, value })) });
    const below = (key: string, by: number) => numbered('k', Number(key.slice(1)) - by);
    // Read an absent key, change its neighbourhood, then write it.
    const changes: ((key: string) => Promise<void>)[] = [
      async () => {},
      async (key) => kvCommit(kv, { deletes: [below(key, 1)] }),
      async (key) => kvCommit(kv, { deletes: even.filter((k) => k < key).slice(-9) }),
      async (key) => kvCommit(kv, { puts: [{ key: `${below(key, 1)}~`, value: 0 }] }),
      async (key) => kvCommit(kv, { puts: [{ key: `${key}~`, value: 0 }] }),
    ];
    for (const [i, change] of changes.entries()) {
      const key = numbered('k', 101 + 200 * i);
      expect(await kvGet(kv, [key])).toEqual([undefined]);
      await change(key);
      await kvCommit(kv, { puts: [{ key, value: 1 }] });
      const keys = (await kvScan(kv, {})).map((e) => e.key);
      expect(keys).toEqual([...keys].sort());
      expect(keys).toContain(key);
      expect(await kvGet(kv, [key])).toEqual([1]);
    }
  });
});
