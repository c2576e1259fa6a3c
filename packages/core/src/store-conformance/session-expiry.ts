import { describe, expect, it } from 'vitest';
import {
  isOpenFailedError,
  isSessionExpiredError,
  isStreamLockedError,
  type SessionExpiredError,
} from '../errors.js';
import type { Session } from '../session.js';
import {
  amounts,
  type BankEvent,
  caught,
  deposit,
  pause,
  REF,
  type StoreConformanceOptions,
  type StoreHarness,
} from './harness.js';
import { expectFilled, fill, SESSION_OPERATIONS } from './sessions.js';

/** Waits (real time) until `session`'s lease has run out. */
export const outlive = (session: Session<BankEvent>): Promise<void> =>
  pause(Math.max(0, session.expiresAt - Date.now()) + 50);

/**
 * Fencing on real time: an expired session can do nothing, and whoever takes the stream
 * over after it is safe from it.
 */
export const sessionExpiryTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  describe('session expiry and takeover', () => {
    it('every operation of an expired session is SESSION_EXPIRED, and nothing is written', async () => {
      const store = await h.store();
      const session = await store.open(REF, { sessionTimeoutMs: h.shortLeaseMs });
      await fill(session);
      await outlive(session);
      for (const [name, run] of SESSION_OPERATIONS) {
        const error = await caught<SessionExpiredError>(run(session), isSessionExpiredError);
        expect(error, name).toMatchObject({
          code: 'SESSION_EXPIRED',
          stream: session.ref,
          sessionId: session.sessionId,
          expiredAt: session.expiresAt,
        });
      }
      await expectFilled(store.stream(REF));
    });

    it('once a session expired, a session-less handle writes and the session still cannot', async () => {
      const store = await h.store();
      const session = await store.open(REF, { sessionTimeoutMs: h.shortLeaseMs });
      await session.append(deposit(1));
      await caught(store.stream(REF).append(deposit(2)), isStreamLockedError);
      await outlive(session);
      await store.stream(REF).append(deposit(2), { expectedVersion: 1 });
      await caught(session.append(deposit(3)), isSessionExpiredError);
      expect(amounts(await store.stream(REF).read())).toEqual([1, 2]);
    });

    it('the next open takes an expired lease over at once; the expired session stays SESSION_EXPIRED', async () => {
      const store = await h.store();
      const old = await store.open(REF, { sessionTimeoutMs: h.shortLeaseMs });
      await old.append(deposit(1));
      await outlive(old);
      const next = await store.open(REF, { openTimeoutMs: 0 });
      try {
        expect(next.sessionId).not.toBe(old.sessionId);
        for (const [name, run] of SESSION_OPERATIONS) {
          const error = await caught<SessionExpiredError>(run(old), isSessionExpiredError);
          expect(error, name).toMatchObject({
            sessionId: old.sessionId,
            expiredAt: old.expiresAt,
          });
        }
        await next.append(deposit(2), { expectedVersion: 1 });
        expect(amounts(await store.stream(REF).read())).toEqual([1, 2]);
      } finally {
        await next.close();
      }
    });

    it("closing a superseded session does not release its successor's lease", async () => {
      const store = await h.store();
      const old = await store.open(REF, { sessionTimeoutMs: h.shortLeaseMs });
      await outlive(old);
      const next = await store.open(REF);
      try {
        await old.close();
        expect(old.closed).toBe(true);
        await caught(store.stream(REF).append(deposit(1)), isStreamLockedError);
        await caught(store.open(REF, { openTimeoutMs: 0 }), isOpenFailedError);
        await next.append(deposit(1));
      } finally {
        await next.close();
      }
    });

    it('a superseded session cannot write even after its successor closed', async () => {
      const store = await h.store();
      const old = await store.open(REF, { sessionTimeoutMs: h.shortLeaseMs });
      await outlive(old);
      const next = await store.open(REF);
      await next.append(deposit(1));
      await next.close();
      await caught(old.append(deposit(2)), isSessionExpiredError);
      await caught(old.renew(), isSessionExpiredError);
      expect(amounts(await store.stream(REF).read())).toEqual([1]);
    });

    it('closing an expired session succeeds and frees the stream', async () => {
      const store = await h.store();
      const session = await store.open(REF, { sessionTimeoutMs: h.shortLeaseMs });
      await outlive(session);
      await session.close();
      expect(session.closed).toBe(true);
      const next = await store.open(REF, { openTimeoutMs: 0 });
      await next.close();
    });

    it('open with an open timeout takes the lease over when the holder expires within it', async () => {
      const store = await h.store();
      const holder = await store.open(REF, { sessionTimeoutMs: h.shortLeaseMs });
      await holder.append(deposit(1));
      const next = await store.open(REF, { openTimeoutMs: 5_000 });
      try {
        expect(Date.now()).toBeGreaterThanOrEqual(holder.expiresAt - 50);
        await next.append(deposit(2), { expectedVersion: 1 });
        await caught(holder.append(deposit(3)), isSessionExpiredError);
      } finally {
        await next.close();
      }
    });
  });
};
