import { describe, expect, it } from 'vitest';
import {
  type DuplicateIdempotencyIdError,
  type IdempotencyIdNotFoundError,
  type InvalidArgumentError,
  isDuplicateIdempotencyIdError,
  isIdempotencyIdNotFoundError,
  isInvalidArgumentError,
} from '../errors.js';
import type { ExpectedVersion } from '../types.js';
import {
  amounts,
  caught,
  deposit,
  REF,
  type StoreConformanceOptions,
  type StoreHarness,
} from './harness.js';

const RETRIES: readonly (readonly [string, ExpectedVersion])[] = [
  ['the same expected version', 1],
  ["'any'", 'any'],
  ["'exists'", 'exists'],
];

/** Message ids: exact retries are deduplicated, reused ids refused, ids looked up. */
export const idempotencyTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  describe('idempotency', () => {
    for (const [name, expected] of RETRIES) {
      it(`an exact retry with ${name} returns the same result, deduplicated, and writes nothing`, async () => {
        const store = await h.store();
        const stream = store.stream(REF);
        await stream.append(deposit(1, { messageId: 'm-1' }));
        const batch = [deposit(2, { messageId: 'm-2' }), deposit(3, { messageId: 'm-3' })];
        const first = await stream.append(batch, { expectedVersion: expected });
        expect(first.deduplicated).toBe(false);
        const retry = await stream.append(batch, { expectedVersion: expected });
        expect(retry).toEqual({ ...first, deduplicated: true });
        expect(amounts(await stream.read())).toEqual([1, 2, 3]);
        expect(await stream.version()).toBe(3);
      });
    }

    it('a retry deduplicates after the stream moved on, through another handle', async () => {
      const store = await h.store();
      const batch = deposit(1, { messageId: 'open' });
      const first = await store.stream(REF).append(batch, { expectedVersion: 'no-stream' });
      await store.stream(REF).append([deposit(2), deposit(3)]);
      const retry = await store.stream(REF).append(batch, { expectedVersion: 'no-stream' });
      expect(retry).toEqual({ ...first, deduplicated: true });
      expect(await store.stream(REF).version()).toBe(3);
    });

    it('a retry through a session deduplicates an append made without one', async () => {
      const store = await h.store();
      const batch = [deposit(1, { messageId: 'a' }), deposit(2, { messageId: 'b' })];
      const first = await store.stream(REF).append(batch, { expectedVersion: 0 });
      const session = await store.open(REF);
      try {
        expect(await session.append(batch, { expectedVersion: 0 })).toEqual({
          ...first,
          deduplicated: true,
        });
      } finally {
        await session.close();
      }
    });

    it('a message id reused by a different append is DUPLICATE_IDEMPOTENCY_ID, nothing written', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      await stream.append([deposit(1, { messageId: 'm-1' }), deposit(2, { messageId: 'm-2' })]);
      const attempts = [
        // The same id with another one after it.
        [deposit(3, { messageId: 'm-2' }), deposit(4, { messageId: 'm-new' })],
        // A fresh id, then a used one.
        [deposit(3, { messageId: 'm-new' }), deposit(4, { messageId: 'm-1' })],
        // The used ids in another order.
        [deposit(2, { messageId: 'm-2' }), deposit(1, { messageId: 'm-1' })],
      ];
      for (const attempt of attempts) {
        const error = await caught<DuplicateIdempotencyIdError>(
          stream.append(attempt),
          isDuplicateIdempotencyIdError,
        );
        const clash = attempt.map((e) => e.metadata?.messageId).find((id) => id !== 'm-new');
        expect(error).toMatchObject({
          code: 'DUPLICATE_IDEMPOTENCY_ID',
          stream: stream.ref,
          messageId: clash,
          existingVersion: clash === 'm-1' ? 1 : 2,
        });
      }
      expect(await stream.version()).toBe(2);
      await caught(stream.versionOf('m-new'), isIdempotencyIdNotFoundError);
    });

    it('the same message id twice in one append is INVALID_ARGUMENT', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      const error = await caught<InvalidArgumentError>(
        stream.append([deposit(1, { messageId: 'x' }), deposit(2, { messageId: 'x' })]),
        isInvalidArgumentError,
      );
      expect(error.field).toBe('events[1].metadata.messageId');
      expect(await stream.version()).toBe(0);
    });

    it('versionOf finds the version of every message id, given or generated', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      await stream.append([deposit(1, { messageId: 'm-1' }), deposit(2)]);
      await stream.append(deposit(3, { messageId: 'm-3' }));
      expect(await stream.versionOf('m-1')).toBe(1);
      expect(await stream.versionOf('m-3')).toBe(3);
      const generated = (await stream.read({ from: 2, to: 2 }))[0]!.metadata.messageId;
      expect(await store.stream(REF).versionOf(generated)).toBe(2);
    });

    it('versionOf an unknown id is IDEMPOTENCY_ID_NOT_FOUND naming it', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      for (const setup of [async () => {}, () => stream.append(deposit(1, { messageId: 'm-1' }))]) {
        await setup();
        const error = await caught<IdempotencyIdNotFoundError>(
          stream.versionOf('m-unknown'),
          isIdempotencyIdNotFoundError,
        );
        expect(error).toMatchObject({
          code: 'IDEMPOTENCY_ID_NOT_FOUND',
          stream: stream.ref,
          messageId: 'm-unknown',
        });
      }
    });

    it('generated message ids differ, so repeating an append without ids appends again', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      await stream.append([deposit(1), deposit(1)]);
      const again = await stream.append(deposit(1));
      expect(again).toMatchObject({ version: 3, deduplicated: false });
      const ids = (await stream.read()).map((e) => e.metadata.messageId);
      expect(new Set(ids).size).toBe(3);
    });

    it('message ids are scoped to their stream', async () => {
      const store = await h.store();
      const other = { type: REF.type, id: 'other' };
      await store.stream(REF).append(deposit(1, { messageId: 'shared' }));
      const result = await store.stream(other).append(deposit(2, { messageId: 'shared' }));
      expect(result).toMatchObject({ version: 1, deduplicated: false });
      expect(await store.stream(other).versionOf('shared')).toBe(1);
      expect(amounts(await store.stream(REF).read())).toEqual([1]);
    });
  });
};
