/**
 * A small seeded generator (mulberry32): numbers in [0, 1), the same sequence for the same
 * seed, so a run's faults or schedule follow from its seed (fast-check shrinks and replays
 * the seed).
 * @example
 * const random = seededRandom(42);
 * if (random() < 0.1) throw new Error('injected');
 */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};
