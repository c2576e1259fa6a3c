/** A timed unit of work: does it once and returns how many events or operations it did. */
export type Run = () => Promise<number>;

/**
 * One sample: repeats `run` until at least `minMs` have passed and returns the
 * throughput in units per second. No forced GC between samples: a forced full GC makes
 * V8 throw away optimized code, and the next sample then measures the JIT warming up.
 */
export const sample = async (run: Run, minMs: number): Promise<number> => {
  let units = 0;
  let elapsed = 0;
  const start = performance.now();
  do {
    units += await run();
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return (units * 1000) / elapsed;
};

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Throws when a store returned the wrong result: a wrong answer is not a fast one. */
export const expect = (what: string, actual: number, expected: number): void => {
  if (actual !== expected) throw new Error(`${what}: got ${actual}, expected ${expected}`);
};
