import { describe, expect, it } from 'vitest';
import type { KvCommit } from '../src/index.js';
import { createEventStore, createMemoryKv, systemClock } from '../src/index.js';
import { kvCommit, kvGet, kvScan } from '../src/kv/index.js';
import {
  attemptAppends,
  createFaultyKv,
  createManualClock,
  createNonAtomicKv,
  createPlainKv,
  exactlyOnceProblems,
  InjectedFault,
  seededRandom,
  streamProblems,
  type TaggedEvent,
} from '../src/testing/index.js';

describe('testing tools', () => {
  it('the manual clock moves only when told, and sleep advances it', async () => {
    const clock = createManualClock(1000);
    expect(clock.now()).toBe(1000);
    clock.advance(5);
    await clock.sleep(10);
    expect(clock.now()).toBe(1015);
    clock.set(0);
    expect(clock.now()).toBe(0);
  });

  it('the system clock tells time and sleeps', async () => {
    const start = systemClock.now();
    await systemClock.sleep(5);
    expect(systemClock.now()).toBeGreaterThanOrEqual(start + 4);
  });

  it('the faulty KV fails the n-th matching operation before or after it applies', async () => {
    const faulty = createFaultyKv(createMemoryKv());
    faulty.inject({ nth: 2, when: 'after', operations: ['commit'] });
    await kvGet(faulty, ['x']);
    await kvCommit(faulty, { puts: [{ key: 'a', value: 1 }] });
    await expect(kvCommit(faulty, { puts: [{ key: 'b', value: 2 }] })).rejects.toBeInstanceOf(
      InjectedFault,
    );
    expect(await kvGet(faulty, ['a', 'b'])).toEqual([1, 2]);
    faulty.inject({ nth: 1, when: 'before' });
    await expect(kvScan(faulty, {})).rejects.toMatchObject({ operation: 'scan', when: 'before' });
    faulty.inject({ nth: 1, when: 'before' });
    faulty.heal();
    await kvCommit(faulty, { puts: [{ key: 'c', value: 3 }] });
    expect(faulty.fired).toBe(2);
    expect(faulty.capabilities.atomic).toBe(true);
  });

  it('the non-atomic KV refuses multi-key writes, cross-key checks, reads and index keys', async () => {
    const kv = createNonAtomicKv(createMemoryKv());
    expect(kv.capabilities.atomic).toBe(false);
    const write = (change: KvCommit, keys: string[] = []) => kv.write(keys, () => change);
    await write({ checks: [{ key: 'a', absent: true }], puts: [{ key: 'a', value: 1 }] });
    await expect(
      write({
        puts: [
          { key: 'b', value: 1 },
          { key: 'c', value: 1 },
        ],
      }),
    ).rejects.toThrow(/one key/);
    await expect(
      write({ checks: [{ key: 'a', equals: 1 }], puts: [{ key: 'b', value: 1 }] }),
    ).rejects.toThrow(/one key/);
    await expect(write({ puts: [{ key: 'b', value: 1, indexKeys: ['i'] }] })).rejects.toThrow(
      /without index keys/,
    );
    await expect(write({ puts: [{ key: 'b', value: 1 }] }, ['a'])).rejects.toThrow(/reads no keys/);
    expect(await kvGet(kv, ['a', 'b', 'c'])).toEqual([1, undefined, undefined]);
  });

  it('the plain KV keeps no index keys: it refuses them and scans by index', async () => {
    const kv = createPlainKv(createMemoryKv());
    expect(kv.capabilities).toMatchObject({ atomic: true, indexes: false });
    await kv.write([], () => ({ puts: [{ key: 'a', value: 1 }] }));
    await expect(
      kv.write([], () => ({ puts: [{ key: 'b', value: 1, indexKeys: ['i'] }] })),
    ).rejects.toThrow(/no index keys/);
    await expect(kv.read([], () => ({ by: 'index' }))).rejects.toThrow(/no scans by index/);
    // Through core's access functions the same index key works, emulated.
    await kvCommit(kv, { puts: [{ key: 'b', value: 2, indexKeys: ['i'] }] });
    expect(await kvScan(kv, { by: 'index' })).toEqual([{ key: 'b', value: 2, indexKey: 'i' }]);
    expect(await kvGet(kv, ['a', 'b'])).toEqual([1, 2]);
  });

  it('the seeded generator gives numbers in [0, 1), the same for the same seed', () => {
    const draw = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 1000 }, () => random());
    };
    const a = draw(42);
    expect(draw(42)).toEqual(a);
    expect(draw(43)).not.toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(a).size).toBeGreaterThan(990);
  });

  it('the exactly-once check passes a clean run and names what a faulty store got wrong', async () => {
    const store = createEventStore<TaggedEvent>({ kv: createMemoryKv() });
    const refs = [
      { type: 'T', id: 'a' },
      { type: 'T', id: 'b' },
    ];
    const attempts = [
      { stream: 0, count: 2, expected: true, ownIds: true },
      { stream: 1, count: 1, expected: false, ownIds: false },
      { stream: 0, count: 1, expected: false, ownIds: true },
    ];
    const outcomes = await attemptAppends(store, refs, attempts, 1, 'run-1');
    const read = () => Promise.all(refs.map((ref) => store.stream(ref).read()));
    const before = [0, 0];
    expect(
      exactlyOnceProblems({ run: 1, attempts, outcomes, before, added: await read() }),
    ).toEqual([]);

    // An acknowledged append stored twice (a retry the store did not recognise).
    const [first] = outcomes;
    const twice = await read();
    const copy = twice[0]!.filter((e) => e.data.op === 0).map((e, i) => ({ ...e, version: 4 + i }));
    const added = [[...twice[0]!, ...copy], twice[1]!];
    expect(exactlyOnceProblems({ run: 1, attempts, outcomes, before, added })).toEqual([
      expect.stringMatching(/^append 0: not stored once at versions \d-\d$/),
      'append 0: its events are not stored in order',
    ]);
    // A failed append that left half of its events.
    const failed = [
      first!,
      { status: 'rejected', reason: new Error('lost') } as const,
      outcomes[2]!,
    ];
    const half = await read();
    const partial = [half[0]!, []];
    expect(
      exactlyOnceProblems({
        run: 1,
        attempts: [attempts[0]!, { ...attempts[1]!, count: 2 }, attempts[2]!],
        outcomes: failed,
        before,
        added: [half[0]!, half[1]!],
      }),
    ).toContain('append 1: failed, and left 1 of 2 events');
    expect(exactlyOnceProblems({ run: 2, attempts, outcomes, before, added: partial })).toContain(
      'stream 0: holds events of another run',
    );

    expect(streamProblems((await read())[0]!)).toEqual([]);
    const gapped = (await read())[0]!.filter((e) => e.version !== 2);
    expect(streamProblems(gapped)).toEqual(['versions are not 1, 2, 3...']);
    const all = (await read())[0]!;
    expect(streamProblems([...all, { ...all[0]!, version: all.length + 1 }])).toEqual([
      'a message id is stored twice',
    ]);
  });
});
