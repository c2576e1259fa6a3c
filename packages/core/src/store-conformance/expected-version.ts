import { describe, expect, it } from 'vitest';
import { isVersionMismatchError, type VersionMismatchError } from '../errors.js';
import type { ExpectedVersion } from '../types.js';
import {
  amounts,
  caught,
  deposit,
  REF,
  type StoreConformanceOptions,
  type StoreHarness,
} from './harness.js';

/** One case: the stream's version before the append, what the append expects, and whether it applies. */
type Case = readonly [current: number, expected: ExpectedVersion, applies: boolean];

const CASES: readonly Case[] = [
  [0, 0, true],
  [0, 'no-stream', true],
  [0, 'exists', false],
  [0, 'any', true],
  [0, 1, false],
  [2, 2, true],
  [2, 1, false],
  [2, 3, false],
  [2, 0, false],
  [2, 'no-stream', false],
  [2, 'exists', true],
  [2, 'any', true],
];

/** Optimistic concurrency: what each expected version admits, and that a refusal writes nothing. */
export const expectedVersionTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  describe('expected version', () => {
    for (const [current, expected, applies] of CASES) {
      it(`at version ${current}, expecting ${JSON.stringify(expected)} ${applies ? 'appends' : 'fails with VERSION_MISMATCH and writes nothing'}`, async () => {
        const store = await h.store();
        const stream = store.stream(REF);
        if (current > 0) {
          await stream.append(Array.from({ length: current }, (_, i) => deposit(i + 1)));
        }
        const batch = [deposit(100), deposit(200)];
        if (applies) {
          const result = await stream.append(batch, { expectedVersion: expected });
          expect(result).toMatchObject({
            version: current + 2,
            firstVersion: current + 1,
            deduplicated: false,
          });
          expect(amounts(await stream.read({ from: current + 1 }))).toEqual([100, 200]);
          return;
        }
        const error = await caught<VersionMismatchError>(
          stream.append(batch, { expectedVersion: expected }),
          isVersionMismatchError,
        );
        expect(error).toMatchObject({
          code: 'VERSION_MISMATCH',
          stream: stream.ref,
          expected,
          actual: current,
        });
        expect(await stream.version()).toBe(current);
        expect(await stream.read({ from: current + 1 })).toEqual([]);
      });
    }

    it('a writer that read a stale version is refused; after re-reading it succeeds', async () => {
      const store = await h.store();
      const mine = store.stream(REF);
      const theirs = store.stream(REF);
      await mine.append(deposit(1));
      const seen = await mine.version();
      await theirs.append(deposit(2), { expectedVersion: seen });
      const error = await caught<VersionMismatchError>(
        mine.append(deposit(3), { expectedVersion: seen }),
        isVersionMismatchError,
      );
      expect(error.actual).toBe(2);
      await mine.append(deposit(3), { expectedVersion: error.actual });
      expect(amounts(await mine.read())).toEqual([1, 2, 3]);
    });
  });
};
