import { describe, expect, it } from 'vitest';
import { createMemoryKv, systemClock } from '../src/index.js';
import {
  createFaultyKv,
  createManualClock,
  createNonAtomicKv,
  InjectedFault,
  seededRandom,
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
    await faulty.get(['x']);
    await faulty.commit({ puts: [{ key: 'a', value: 1 }] });
    await expect(faulty.commit({ puts: [{ key: 'b', value: 2 }] })).rejects.toBeInstanceOf(
      InjectedFault,
    );
    expect(await faulty.get(['a', 'b'])).toEqual([1, 2]);
    faulty.inject({ nth: 1, when: 'before' });
    await expect(faulty.scan({})).rejects.toMatchObject({ operation: 'scan', when: 'before' });
    faulty.inject({ nth: 1, when: 'before' });
    faulty.heal();
    await faulty.commit({ puts: [{ key: 'c', value: 3 }] });
    expect(faulty.fired).toBe(2);
    expect(faulty.capabilities.atomic).toBe(true);
  });

  it('the non-atomic KV refuses multi-key commits and cross-key checks', async () => {
    const kv = createNonAtomicKv(createMemoryKv());
    expect(kv.capabilities.atomic).toBe(false);
    await kv.commit({ checks: [{ key: 'a', absent: true }], puts: [{ key: 'a', value: 1 }] });
    await expect(
      kv.commit({
        puts: [
          { key: 'b', value: 1 },
          { key: 'c', value: 1 },
        ],
      }),
    ).rejects.toThrow(/one key/);
    await expect(
      kv.commit({ checks: [{ key: 'a', equals: 1 }], puts: [{ key: 'b', value: 1 }] }),
    ).rejects.toThrow(/one key/);
    expect(await kv.get(['a', 'b', 'c'])).toEqual([1, undefined, undefined]);
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
});
