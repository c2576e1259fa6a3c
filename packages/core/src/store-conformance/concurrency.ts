import { describe, expect, it } from 'vitest';
import { isOpenFailedError, isVersionMismatchError } from '../errors.js';
import type { AppendResult } from '../types.js';
import {
  amounts,
  deposit,
  REF,
  type StoreConformanceOptions,
  type StoreHarness,
  versions,
} from './harness.js';

const WRITERS = 8;

const settle = async <T>(ops: Promise<T>[]) => {
  const outcomes = await Promise.allSettled(ops);
  return {
    won: outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : [])),
    lost: outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : [])),
  };
};

/** Writers racing each other through the same store. */
export const concurrencyTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  describe('concurrency', () => {
    it(`of ${WRITERS} concurrent appends at the same expected version exactly one wins`, async () => {
      const store = await h.store();
      await store.stream(REF).append(deposit(0));
      const { won, lost } = await settle(
        Array.from({ length: WRITERS }, (_, i) =>
          store.stream(REF).append([deposit(i + 1), deposit(i + 1)], { expectedVersion: 1 }),
        ),
      );
      expect(won).toHaveLength(1);
      expect(won[0]).toMatchObject({ version: 3, firstVersion: 2, deduplicated: false });
      expect(lost).toHaveLength(WRITERS - 1);
      for (const error of lost) {
        expect(isVersionMismatchError(error), String(error)).toBe(true);
        expect(error).toMatchObject({ expected: 1, actual: 3 });
      }
      const events = await store.stream(REF).read();
      expect(versions(events)).toEqual([1, 2, 3]);
      const [, second, third] = amounts(events);
      expect(second).toBe(third);
    });

    it(`${WRITERS} concurrent appends with 'any' all land, each at versions of its own`, async () => {
      const store = await h.store();
      const { won, lost } = await settle(
        Array.from({ length: WRITERS }, (_, i) =>
          store.stream(REF).append([deposit(i), deposit(i)], { expectedVersion: 'any' }),
        ),
      );
      expect(lost).toEqual([]);
      const taken = won
        .flatMap((r: AppendResult) => [r.firstVersion, r.version])
        .sort((a, b) => a - b);
      expect(taken).toEqual(Array.from({ length: WRITERS * 2 }, (_, i) => i + 1));
      const events = await store.stream(REF).read();
      expect(events).toHaveLength(WRITERS * 2);
      // Each append's events stay together.
      for (const result of won) {
        const [a, b] = amounts(events.slice(result.firstVersion - 1, result.version));
        expect(a).toBe(b);
      }
    });

    it('concurrent appends to different streams never conflict', async () => {
      const store = await h.store();
      const { won, lost } = await settle(
        Array.from({ length: WRITERS }, (_, i) =>
          store.stream({ type: REF.type, id: `s-${i}` }).append(deposit(i), {
            expectedVersion: 'no-stream',
          }),
        ),
      );
      expect(lost).toEqual([]);
      expect(won.map((r) => r.version)).toEqual(Array(WRITERS).fill(1));
    });

    it('the same append sent twice at once is written once; the other is deduplicated', async () => {
      const store = await h.store();
      const batch = [deposit(1, { messageId: 'a' }), deposit(2, { messageId: 'b' })];
      const { won, lost } = await settle([
        store.stream(REF).append(batch, { expectedVersion: 'no-stream' }),
        store.stream(REF).append(batch, { expectedVersion: 'no-stream' }),
      ]);
      expect(lost).toEqual([]);
      expect(won.map((r) => r.deduplicated).sort()).toEqual([false, true]);
      expect(won.map((r) => [r.firstVersion, r.version])).toEqual([
        [1, 2],
        [1, 2],
      ]);
      expect(amounts(await store.stream(REF).read())).toEqual([1, 2]);
    });

    it(`of ${WRITERS} concurrent opens exactly one wins; the others are OPEN_FAILED`, async () => {
      const store = await h.store();
      const { won, lost } = await settle(
        Array.from({ length: WRITERS }, () => store.open(REF, { openTimeoutMs: 0 })),
      );
      try {
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(WRITERS - 1);
        for (const error of lost) {
          expect(isOpenFailedError(error), String(error)).toBe(true);
          expect(error).toMatchObject({ holder: won[0]!.sessionId });
        }
        await won[0]!.append(deposit(1));
      } finally {
        for (const session of won) await session.close();
      }
    });
  });
};
