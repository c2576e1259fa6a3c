import { describe, expect, it } from 'vitest';
import {
  type InvalidSessionError,
  isInvalidArgumentError,
  isInvalidSessionError,
  isNotOpenError,
  isSessionExpiredError,
  isVersionMismatchError,
  type NotOpenError,
  type SessionExpiredError,
} from '../errors.js';
import { type ConformanceOptions, caught, deposit, useHarness } from './harness.js';

const REF = { type: 'BankAccount', id: '42' } as const;
const STREAM = { database: 'default', type: 'BankAccount', id: '42' } as const;

/**
 * Resuming a session by id: what a server does when each request of a session arrives
 * afresh (HTTP, RPC) or after the process restarted. Only storage may be relied upon, so
 * every case uses a second store instance over the same KV.
 */
export const resumeTests = (options: ConformanceOptions): void => {
  const harness = useHarness(options);

  describe('resume a session by id', () => {
    it('a resumed session writes under the lease; others are still locked out', async () => {
      const h = await harness();
      const opened = await h.store().open(REF, { sessionTimeoutMs: 5_000 });
      await opened.append(deposit(1));

      const resumed = await h.store().resume(REF, opened.sessionId);
      expect(resumed.sessionId).toBe(opened.sessionId);
      expect(resumed.expiresAt).toBe(opened.expiresAt);
      expect(resumed.closed).toBe(false);
      expect(await resumed.append(deposit(2), { expectedVersion: 1 })).toMatchObject({
        version: 2,
      });
      await caught(
        h.store().open(REF, { openTimeoutMs: 0 }),
        (e): e is Error => (e as { code?: string }).code === 'OPEN_FAILED',
      );
      expect((await h.store().stream(REF).read()).map((e) => e.version)).toEqual([1, 2]);
    });

    it('renew() on a resumed session extends by the timeout the session was opened with', async () => {
      const h = await harness();
      const opened = await h.store({ sessionTimeoutMs: 60_000 }).open(REF, {
        sessionTimeoutMs: 5_000,
      });
      h.clock.advance(4_000);
      const resumed = await h.store({ sessionTimeoutMs: 60_000 }).resume(REF, opened.sessionId);
      await resumed.renew();
      expect(resumed.expiresAt).toBe(h.clock.now() + 5_000);
      h.clock.advance(4_000); // past the first expiry, within the renewed one
      await expect(resumed.append(deposit(1))).resolves.toMatchObject({ version: 1 });
    });

    it('a renewal through any handle of a session is seen by every other handle', async () => {
      const h = await harness();
      // Same store: the handles share the session's state.
      const store = h.store();
      const opened = await store.open(REF, { sessionTimeoutMs: 5_000 });
      h.clock.advance(4_000);
      const resumed = await store.resume(REF, opened.sessionId);
      await resumed.renew();
      expect(opened.expiresAt).toBe(resumed.expiresAt);
      h.clock.advance(4_000); // past the deadline the opening handle was given
      await expect(opened.append(deposit(1))).resolves.toMatchObject({ version: 1 });
      await expect(opened.version()).resolves.toBe(1);

      // Another store over the same storage (another tab, another request): the opening
      // handle reads the renewed deadline from the lease before declaring itself expired.
      const elsewhere = await h.store().resume(REF, opened.sessionId);
      h.clock.advance(500);
      await elsewhere.renew();
      h.clock.advance(4_800); // past what `opened` last knew, within the renewal
      await expect(opened.append(deposit(2))).resolves.toMatchObject({ version: 2 });
      expect(opened.expiresAt).toBe(elsewhere.expiresAt);
      h.clock.advance(5_000); // past the renewal too: expired for every handle
      await caught(opened.append(deposit(3)), isSessionExpiredError);
      await caught(elsewhere.append(deposit(3)), isSessionExpiredError);
    });

    it('closing one handle of a session closes its other handles in the same store', async () => {
      const h = await harness();
      const store = h.store();
      const opened = await store.open(REF);
      const resumed = await store.resume(REF, opened.sessionId);
      await resumed.close();
      expect(opened.closed).toBe(true);
      await caught(opened.append(deposit(1)), isNotOpenError);
    });

    it('closing a resumed session releases the lease for the next opener', async () => {
      const h = await harness();
      const opened = await h.store().open(REF);
      const resumed = await h.store().resume(REF, opened.sessionId);
      await resumed.close();
      const next = await h.store().open(REF, { openTimeoutMs: 0 });
      await next.append(deposit(1));
      const error = await caught(opened.append(deposit(2)), isInvalidSessionError);
      expect(error).toMatchObject<Partial<InvalidSessionError>>({
        sessionId: opened.sessionId,
        holder: next.sessionId,
      });
    });

    it('an unknown session id is NOT_OPEN; one whose lease another holds is INVALID_SESSION', async () => {
      const h = await harness();
      const missing = await caught(h.store().resume(REF, 'no-such-session'), isNotOpenError);
      expect(missing).toMatchObject<Partial<NotOpenError>>({
        stream: STREAM,
        sessionId: 'no-such-session',
      });
      const holder = await h.store().open(REF);
      const other = await caught(h.store().resume(REF, 'someone-else'), isInvalidSessionError);
      expect(other).toMatchObject<Partial<InvalidSessionError>>({
        sessionId: 'someone-else',
        holder: holder.sessionId,
      });
    });

    it('an expired session cannot be resumed, and nothing is written', async () => {
      const h = await harness();
      const opened = await h.store().open(REF, { sessionTimeoutMs: 1_000 });
      h.clock.advance(1_000);
      const error = await caught(h.store().resume(REF, opened.sessionId), isSessionExpiredError);
      expect(error).toMatchObject<Partial<SessionExpiredError>>({
        sessionId: opened.sessionId,
        expiredAt: opened.expiresAt,
      });
      expect(await h.store().stream(REF).version()).toBe(0);
    });

    it('a resumed session keeps optimistic checks', async () => {
      const h = await harness();
      const opened = await h.store().open(REF);
      await opened.append(deposit(1));
      const resumed = await h.store().resume(REF, opened.sessionId);
      await caught(resumed.append(deposit(2), { expectedVersion: 0 }), isVersionMismatchError);
    });

    it('refuses a session id that is not a name', async () => {
      const h = await harness();
      await caught(h.store().resume(REF, '' as string), isInvalidArgumentError);
      await caught(h.store().resume(REF, 42 as unknown as string), isInvalidArgumentError);
    });
  });
};
