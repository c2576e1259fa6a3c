import { describe, expect, it } from 'vitest';
import {
  type InvalidArgumentError,
  type InvalidSessionError,
  isInvalidArgumentError,
  isInvalidSessionError,
  isNotOpenError,
  isOpenFailedError,
  isSessionExpiredError,
  isStreamLockedError,
  isVersionMismatchError,
  type NotOpenError,
  type SessionExpiredError,
} from '../errors.js';
import {
  amounts,
  caught,
  deposit,
  pause,
  REF,
  type StoreConformanceOptions,
  type StoreHarness,
} from './harness.js';
import { outlive } from './session-expiry.js';

/** `store.resume(ref, sessionId)`: a session re-attached by its id, as a server does per request. */
export const resumeTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  describe('resume a session by id', () => {
    it('a resumed session is the same session: it writes under the lease, others stay locked out', async () => {
      const store = await h.store();
      const opened = await store.open(REF);
      try {
        await opened.append(deposit(1));
        const resumed = await store.resume(REF, opened.sessionId);
        expect(resumed.sessionId).toBe(opened.sessionId);
        expect(resumed.expiresAt).toBe(opened.expiresAt);
        expect(resumed.closed).toBe(false);
        expect(resumed.ref).toEqual(opened.ref);
        await resumed.append(deposit(2), { expectedVersion: 1 });
        await opened.append(deposit(3), { expectedVersion: 2 });
        await caught(store.stream(REF).append(deposit(4)), isStreamLockedError);
        await caught(store.open(REF, { openTimeoutMs: 0 }), isOpenFailedError);
        // Optimistic checks still apply within the session.
        await caught(resumed.append(deposit(4), { expectedVersion: 1 }), isVersionMismatchError);
        expect(amounts(await resumed.read())).toEqual([1, 2, 3]);
      } finally {
        await opened.close();
      }
    });

    it('renew of a resumed session extends it by the timeout the session was opened with', async () => {
      const store = await h.store();
      const timeout = 5_000;
      const opened = await store.open(REF, { sessionTimeoutMs: timeout });
      try {
        await pause(20);
        const resumed = await store.resume(REF, opened.sessionId);
        const before = Date.now();
        await resumed.renew();
        const after = Date.now();
        expect(resumed.expiresAt).toBeGreaterThanOrEqual(before + timeout - 100);
        expect(resumed.expiresAt).toBeLessThanOrEqual(after + timeout + 100);
        expect((await store.resume(REF, opened.sessionId)).expiresAt).toBe(resumed.expiresAt);
      } finally {
        await opened.close();
      }
    });

    it('closing a resumed session releases the lease', async () => {
      const store = await h.store();
      const opened = await store.open(REF);
      const resumed = await store.resume(REF, opened.sessionId);
      await resumed.close();
      expect(resumed.closed).toBe(true);
      await caught(resumed.append(deposit(1)), isNotOpenError);
      const next = await store.open(REF, { openTimeoutMs: 0 });
      await next.close();
    });

    it('with no session on the stream, resume is NOT_OPEN', async () => {
      const store = await h.store();
      const error = await caught<NotOpenError>(
        store.resume(REF, 'no-such-session'),
        isNotOpenError,
      );
      expect(error).toMatchObject({ stream: store.stream(REF).ref, sessionId: 'no-such-session' });
      const closed = await store.open(REF);
      await closed.close();
      await caught(store.resume(REF, closed.sessionId), isNotOpenError);
    });

    it('while another session holds the stream, resume is INVALID_SESSION naming the holder', async () => {
      const store = await h.store();
      const holder = await store.open(REF);
      try {
        const error = await caught<InvalidSessionError>(
          store.resume(REF, 'someone-else'),
          isInvalidSessionError,
        );
        expect(error).toMatchObject({
          code: 'INVALID_SESSION',
          stream: holder.ref,
          sessionId: 'someone-else',
          holder: holder.sessionId,
        });
      } finally {
        await holder.close();
      }
    });

    it('an expired session cannot be resumed', async () => {
      const store = await h.store();
      const session = await store.open(REF, { sessionTimeoutMs: h.shortLeaseMs });
      await outlive(session);
      const error = await caught<SessionExpiredError>(
        store.resume(REF, session.sessionId),
        isSessionExpiredError,
      );
      expect(error).toMatchObject({
        sessionId: session.sessionId,
        expiredAt: session.expiresAt,
      });
      await store.stream(REF).append(deposit(1));
    });

    it('a session id that is not a name is INVALID_ARGUMENT naming sessionId', async () => {
      const store = await h.store();
      const error = await caught<InvalidArgumentError>(
        () => store.resume(REF, ''),
        isInvalidArgumentError,
      );
      expect(error.field).toBe('sessionId');
    });
  });
};
