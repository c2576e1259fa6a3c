import { describe, expect, it } from 'vitest';
import type { Clock } from '../clock.js';
import {
  type InvalidSessionError,
  isInvalidArgumentError,
  isInvalidSessionError,
  isNotOpenError,
  isOpenFailedError,
  isSessionExpiredError,
  isStorageError,
  isStreamLockedError,
  type NotOpenError,
  type OpenFailedError,
  type SessionExpiredError,
  type StreamLockedError,
} from '../errors.js';
import type { Session } from '../session.js';
import { createFaultyKv } from '../testing/faulty-kv.js';
import { createManualClock } from '../testing/manual-clock.js';
import type { RecordedEvent, StreamRef } from '../types.js';
import {
  type BankEvent,
  type ConformanceOptions,
  caught,
  deposit,
  recordingLogger,
  useHarness,
} from './harness.js';

const REF = { type: 'BankAccount', id: '42' } as const;
const STREAM = { database: 'default', type: 'BankAccount', id: '42' } as const;

const amounts = (events: readonly RecordedEvent<BankEvent>[]) =>
  events.map((e) => (e.type === 'Deposited' ? e.data.amount : undefined));

type Operation = readonly [name: string, run: (s: Session<BankEvent>) => Promise<unknown>];

/** Every operation of a session, to prove none of them slips past a closed or expired session. */
const OPERATIONS: readonly Operation[] = [
  ['append', (s) => s.append(deposit(100))],
  ['read', (s) => s.read()],
  ['version', (s) => s.version()],
  ['versionOf', (s) => s.versionOf('m-1')],
  ['saveSnapshot', (s) => s.saveSnapshot(2, { balance: 3 })],
  ['latestSnapshot', (s) => s.latestSnapshot()],
  ['snapshotAt', (s) => s.snapshotAt(1)],
  ['snapshotVersions', (s) => s.snapshotVersions()],
  ['load', (s) => s.load()],
  ['snapshotEvery', (s) => s.snapshotEvery(1, () => 0)],
  ['deleteSnapshot', (s) => s.deleteSnapshot(1)],
  ['clearSnapshots', (s) => s.clearSnapshots()],
  ['renew', (s) => s.renew()],
];

/** Two events (message ids m-1, m-2) and a snapshot at version 1, written by the session. */
const fill = async (session: Session<BankEvent>): Promise<void> => {
  await session.append([deposit(1, { messageId: 'm-1' }), deposit(2, { messageId: 'm-2' })]);
  await session.saveSnapshot(1, { balance: 1 });
};

export const sessionTests = (options: ConformanceOptions): void => {
  describe('sessions', () => {
    const setup = useHarness(options);

    describe('seed user story 3', () => {
      it('Given a closed event store, When I attempt to read or write events without opening, Then the operation fails with a clear error indicating the store is not open', async () => {
        const h = await setup();
        const store = h.store();
        const session = await store.open(REF);
        await session.append(deposit(1));
        await session.close();

        const write = await caught<NotOpenError>(session.append(deposit(2)), isNotOpenError);
        const read = await caught<NotOpenError>(session.read(), isNotOpenError);
        for (const error of [write, read]) {
          expect(error).toMatchObject({
            code: 'NOT_OPEN',
            stream: STREAM,
            sessionId: session.sessionId,
          });
          expect(error.message).toContain('BankAccount/42');
          expect(error.message).toContain('closed');
          expect(error.message).toContain('store.open()');
        }
        expect(await store.stream(REF).version()).toBe(1);
      });

      it('Given an open event store session, When the session expires, Then subsequent operations fail with a session expired error', async () => {
        const h = await setup();
        const store = h.store({ sessionTimeoutMs: 1_000 });
        const session = await store.open(REF);
        await session.append(deposit(1));
        h.clock.advance(1_000);

        for (const run of [
          () => session.append(deposit(2)),
          () => session.read(),
          () => session.version(),
        ]) {
          const error = await caught<SessionExpiredError>(run(), isSessionExpiredError);
          expect(error).toMatchObject({
            code: 'SESSION_EXPIRED',
            stream: STREAM,
            sessionId: session.sessionId,
            expiredAt: session.expiresAt,
          });
          expect(error.message).toContain('BankAccount/42');
          expect(error.message).toContain('expired');
        }
        expect(await store.stream(REF).version()).toBe(1);
      });

      it('Given an event store opened by one session, When another session attempts to open the same store, Then the second session fails immediately with a clear error indicating the store is locked', async () => {
        const h = await setup();
        const store = h.store();
        const first = await store.open(REF);
        const before = h.clock.now();

        const error = await caught<OpenFailedError>(store.open(REF), isOpenFailedError);
        expect(h.clock.now()).toBe(before);
        expect(error).toMatchObject({
          code: 'OPEN_FAILED',
          stream: STREAM,
          openTimeoutMs: 0,
          lockedUntil: first.expiresAt,
          holder: first.sessionId,
        });
        expect(error.message).toContain('BankAccount/42');
        expect(error.message).toContain(first.sessionId);
        expect(error.message).toContain('locked');
        expect(error.message).toContain('openTimeoutMs');
        // The failed attempt must not disturb the holder.
        expect((await first.append(deposit(1))).version).toBe(1);
      });
    });

    describe('open', () => {
      it('open takes an exclusive lease that the session writes and reads through', async () => {
        const h = await setup();
        const store = h.store({ sessionTimeoutMs: 5_000 });
        const session = await store.open(REF);
        expect(session.ref).toEqual(STREAM);
        expect(session.closed).toBe(false);
        expect(session.expiresAt).toBe(h.clock.now() + 5_000);
        expect(typeof session.sessionId).toBe('string');

        expect(await session.version()).toBe(0);
        const result = await session.append([deposit(1), deposit(2)], { expectedVersion: 0 });
        expect(result.version).toBe(2);
        expect(amounts(await session.read())).toEqual([1, 2]);
        expect(await session.version()).toBe(2);
      });

      it('each open gets its own session id', async () => {
        const h = await setup();
        const store = h.store();
        const first = await store.open(REF);
        await first.close();
        const second = await store.open(REF);
        expect(second.sessionId).not.toBe(first.sessionId);
      });

      it('an explicit openTimeoutMs of 0 fails at once with OPEN_FAILED', async () => {
        const h = await setup();
        const store = h.store({ openTimeoutMs: 10_000 });
        const first = await store.open(REF);
        const before = h.clock.now();
        const error = await caught<OpenFailedError>(
          store.open(REF, { openTimeoutMs: 0 }),
          isOpenFailedError,
        );
        expect(error).toMatchObject({ openTimeoutMs: 0, lockedUntil: first.expiresAt });
        expect(h.clock.now()).toBe(before);
      });

      it('open with a timeout retries and succeeds when the holder closes within it', async () => {
        const h = await setup();
        // Closes the holder while the opener is between two retries.
        let onSleep: (() => Promise<void>) | undefined;
        const clock: Clock = {
          now: () => h.clock.now(),
          sleep: async (ms) => {
            await h.clock.sleep(ms);
            const hook = onSleep;
            onSleep = undefined;
            await hook?.();
          },
        };
        const store = h.store({ clock, openRetryIntervalMs: 100 });
        const holder = await store.open(REF);
        const start = h.clock.now();
        onSleep = () => holder.close();

        const opener = await store.open(REF, { openTimeoutMs: 10_000 });
        expect(holder.closed).toBe(true);
        expect(h.clock.now() - start).toBe(100);
        expect((await opener.append(deposit(1))).version).toBe(1);
        await caught(holder.append(deposit(2)), isNotOpenError);
      });

      it('open with a timeout takes the lease when the holder expires within it', async () => {
        const h = await setup();
        const store = h.store({ sessionTimeoutMs: 1_000 });
        const holder = await store.open(REF);
        await holder.append(deposit(1));

        const opener = await store.open(REF, { openTimeoutMs: 5_000 });
        // Waits no longer than the lease it was blocked by.
        expect(h.clock.now()).toBe(holder.expiresAt);
        expect(opener.sessionId).not.toBe(holder.sessionId);
        expect((await opener.append(deposit(2), { expectedVersion: 1 })).version).toBe(2);
        await caught(holder.append(deposit(3)), isSessionExpiredError);
        expect(await store.stream(REF).version()).toBe(2);
      });

      it('open with a timeout fails at its deadline if the holder outlives it', async () => {
        const h = await setup();
        const store = h.store({ sessionTimeoutMs: 60_000, openRetryIntervalMs: 50 });
        const holder = await store.open(REF);
        const start = h.clock.now();

        // 130 ms is not a multiple of the retry interval: the opener must stop at the
        // deadline, not at the first retry after it.
        const error = await caught<OpenFailedError>(
          store.open(REF, { openTimeoutMs: 130 }),
          isOpenFailedError,
        );
        expect(h.clock.now() - start).toBe(130);
        expect(error).toMatchObject({
          code: 'OPEN_FAILED',
          stream: STREAM,
          openTimeoutMs: 130,
          lockedUntil: holder.expiresAt,
        });
        expect(error.message).toContain('130 ms');
        expect((await holder.append(deposit(1))).version).toBe(1);
      });

      it('the store-wide timeouts apply when open() sets none', async () => {
        const h = await setup();
        const store = h.store({ sessionTimeoutMs: 300, openTimeoutMs: 1_000 });
        const holder = await store.open(REF);
        expect(holder.expiresAt).toBe(h.clock.now() + 300);

        const opener = await store.open(REF);
        expect(h.clock.now()).toBe(holder.expiresAt);
        expect(opener.expiresAt).toBe(h.clock.now() + 300);

        await opener.close();
        const long = await store.open(REF, { sessionTimeoutMs: 10_000 });
        const start = h.clock.now();
        const error = await caught<OpenFailedError>(store.open(REF), isOpenFailedError);
        expect(error.openTimeoutMs).toBe(1_000);
        expect(error.lockedUntil).toBe(long.expiresAt);
        expect(h.clock.now() - start).toBe(1_000);
      });

      it('open() can override the session timeout', async () => {
        const h = await setup();
        const store = h.store({ sessionTimeoutMs: 60_000 });
        const session = await store.open(REF, { sessionTimeoutMs: 250 });
        expect(session.expiresAt).toBe(h.clock.now() + 250);
        h.clock.advance(250);
        await caught(session.append(deposit(1)), isSessionExpiredError);
      });

      it('open rejects invalid timeouts with INVALID_ARGUMENT and takes no lease', async () => {
        const h = await setup();
        const store = h.store();
        const invalid: [string, object][] = [
          ['options.sessionTimeoutMs', { sessionTimeoutMs: 0 }],
          ['options.sessionTimeoutMs', { sessionTimeoutMs: -1 }],
          ['options.sessionTimeoutMs', { sessionTimeoutMs: 1.5 }],
          ['options.sessionTimeoutMs', { sessionTimeoutMs: Number.NaN }],
          ['options.openTimeoutMs', { openTimeoutMs: -1 }],
          ['options.openTimeoutMs', { openTimeoutMs: Number.POSITIVE_INFINITY }],
          ['options.openTimeoutMs', { openTimeoutMs: '100' }],
        ];
        for (const [field, openOptions] of invalid) {
          const error = await caught(store.open(REF, openOptions as never), isInvalidArgumentError);
          expect(error.field).toBe(field);
        }
        const session = await store.open(REF);
        expect(session.closed).toBe(false);
      });

      it('of concurrent opens exactly one wins, the rest fail with OPEN_FAILED', async () => {
        const h = await setup();
        const store = h.store();
        const results = await Promise.allSettled([1, 2, 3, 4, 5].map(() => store.open(REF)));
        const winners = results.filter((r) => r.status === 'fulfilled');
        const losers = results.filter((r) => r.status === 'rejected');
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(4);
        for (const loser of losers) expect(isOpenFailedError(loser.reason)).toBe(true);

        const winner = (winners[0] as PromiseFulfilledResult<Session<BankEvent>>).value;
        expect((await winner.append(deposit(1))).version).toBe(1);
      });
    });

    describe('expiry', () => {
      it('a session works until just before expiresAt and is expired from then on', async () => {
        const h = await setup();
        const store = h.store({ sessionTimeoutMs: 1_000 });
        const session = await store.open(REF);
        h.clock.set(session.expiresAt - 1);
        expect((await session.append(deposit(1))).version).toBe(1);
        await caught(store.open(REF), isOpenFailedError);

        h.clock.set(session.expiresAt);
        await caught(session.append(deposit(2)), isSessionExpiredError);
        const next = await store.open(REF);
        expect(next.closed).toBe(false);
      });

      for (const [name, run] of OPERATIONS) {
        it(`${name} on an expired session: SESSION_EXPIRED, nothing written`, async () => {
          const h = await setup();
          const store = h.store({ sessionTimeoutMs: 1_000 });
          const session = await store.open(REF);
          await fill(session);
          const expiresAt = session.expiresAt;
          h.clock.advance(1_000);

          const error = await caught<SessionExpiredError>(run(session), isSessionExpiredError);
          expect(error).toMatchObject({
            code: 'SESSION_EXPIRED',
            stream: STREAM,
            sessionId: session.sessionId,
            expiredAt: expiresAt,
          });
          expect(session.expiresAt).toBe(expiresAt);

          const view = store.stream(REF);
          expect(await view.version()).toBe(2);
          expect(await view.snapshotVersions()).toEqual([1]);
          // Nothing was extended or written to the lease either: the stream is free.
          const next = await store.open(REF);
          expect(next.closed).toBe(false);
        });
      }

      it('the lease of an expired session can be taken at once by the next opener', async () => {
        const h = await setup();
        const store = h.store({ sessionTimeoutMs: 1_000 });
        const expired = await store.open(REF);
        await expired.append(deposit(1));
        h.clock.advance(5_000);

        const before = h.clock.now();
        const next = await store.open(REF);
        expect(h.clock.now()).toBe(before);
        expect((await next.append(deposit(2), { expectedVersion: 1 })).version).toBe(2);
      });

      it('an expired session cannot write after a takeover nor free the new lease', async () => {
        const h = await setup();
        const store = h.store({ sessionTimeoutMs: 1_000 });
        const expired = await store.open(REF);
        await expired.append(deposit(1));
        h.clock.advance(1_500);
        const next = await store.open(REF);
        await next.append(deposit(2));

        await caught(expired.append(deposit(99)), isSessionExpiredError);
        await caught(expired.saveSnapshot(1, { balance: 99 }), isSessionExpiredError);
        await caught(expired.renew(), isSessionExpiredError);

        await expired.close();
        expect(expired.closed).toBe(true);
        await caught(store.open(REF), isOpenFailedError);
        await caught(store.stream(REF).append(deposit(99)), isStreamLockedError);
        expect((await next.append(deposit(3))).version).toBe(3);
        expect(amounts(await next.read())).toEqual([1, 2, 3]);
      });

      it('closing an expired session succeeds and frees the stream', async () => {
        const h = await setup();
        const store = h.store({ sessionTimeoutMs: 1_000 });
        const session = await store.open(REF);
        h.clock.advance(2_000);
        await session.close();
        expect(session.closed).toBe(true);
        await caught(session.append(deposit(1)), isNotOpenError);
        const next = await store.open(REF);
        expect(next.closed).toBe(false);
      });
    });

    describe('lease taken over', () => {
      // Two stores over one KV with clocks 10 s apart model two tabs or processes whose
      // clocks disagree: the one ahead sees the lease as expired while its holder does not.
      const skewed = async () => {
        const h = await setup();
        const ahead = createManualClock(h.clock.now() + 10_000);
        const tabA = h.store({ sessionTimeoutMs: 1_000 });
        const tabB = h.store({ sessionTimeoutMs: 1_000, clock: ahead });
        const a = await tabA.open(REF);
        await fill(a);
        const b = await tabB.open(REF);
        expect(h.clock.now()).toBeLessThan(a.expiresAt);
        return { h, tabA, tabB, a, b };
      };

      it('a session whose lease was taken over gets INVALID_SESSION on write', async () => {
        const { tabA, a, b } = await skewed();

        const error = await caught<InvalidSessionError>(
          a.append(deposit(99)),
          isInvalidSessionError,
        );
        expect(error).toMatchObject({
          code: 'INVALID_SESSION',
          stream: STREAM,
          sessionId: a.sessionId,
          holder: b.sessionId,
        });
        expect(error.message).toContain('BankAccount/42');
        expect(error.message).toContain(b.sessionId);

        expect(await tabA.stream(REF).version()).toBe(2);
        expect((await b.append(deposit(3), { expectedVersion: 2 })).version).toBe(3);
      });

      for (const [name, run] of [
        ['saveSnapshot', (s) => s.saveSnapshot(2, { balance: 99 })],
        ['deleteSnapshot', (s) => s.deleteSnapshot(1)],
        ['clearSnapshots', (s) => s.clearSnapshots()],
        ['renew', (s) => s.renew()],
      ] satisfies Operation[]) {
        it(`${name} of a session whose lease was taken over: INVALID_SESSION`, async () => {
          const { tabA, a, b } = await skewed();
          const error = await caught<InvalidSessionError>(run(a), isInvalidSessionError);
          expect(error).toMatchObject({ sessionId: a.sessionId, holder: b.sessionId });

          expect(await tabA.stream(REF).snapshotVersions()).toEqual([1]);
          // The lease still belongs to the new holder, unextended.
          expect((await b.append(deposit(3))).version).toBe(3);
          const blocked = await caught<OpenFailedError>(tabA.open(REF), isOpenFailedError);
          expect(blocked.lockedUntil).toBe(b.expiresAt);
        });
      }

      it('a session whose lease was taken over and then released cannot write', async () => {
        const { tabA, a, b } = await skewed();
        await b.close();

        const error = await caught<InvalidSessionError>(
          a.append(deposit(99)),
          isInvalidSessionError,
        );
        expect(error.sessionId).toBe(a.sessionId);
        expect(error.holder).toBeUndefined();
        expect(await tabA.stream(REF).version()).toBe(2);
      });

      it('closing a session whose lease was taken over keeps the new holder', async () => {
        const { tabA, a, b } = await skewed();
        await a.close();

        await caught(tabA.open(REF), isOpenFailedError);
        await caught(tabA.stream(REF).append(deposit(99)), isStreamLockedError);
        expect((await b.append(deposit(3))).version).toBe(3);
      });
    });

    describe('close, dispose and renew', () => {
      it('close releases the lease: another session can open at once', async () => {
        const h = await setup();
        const store = h.store();
        const first = await store.open(REF);
        await first.append(deposit(1));
        await first.close();
        expect(first.closed).toBe(true);

        const before = h.clock.now();
        const second = await store.open(REF);
        expect(h.clock.now()).toBe(before);
        expect((await second.append(deposit(2), { expectedVersion: 1 })).version).toBe(2);
      });

      it('close is idempotent', async () => {
        const h = await setup();
        const { logger, events } = recordingLogger();
        const store = h.store({ logger });
        const session = await store.open(REF);
        await session.close();
        await session.close();
        await session[Symbol.asyncDispose]();
        expect(session.closed).toBe(true);
        expect(events().filter((e) => e === 'store.closed')).toHaveLength(1);

        // A later close of the old session must not release a newer session's lease.
        const next = await store.open(REF);
        await session.close();
        await caught(store.open(REF), isOpenFailedError);
        expect((await next.append(deposit(1))).version).toBe(1);
      });

      it('a close that storage failed can be retried, and then releases the lease', async () => {
        const h = await setup();
        const faulty = createFaultyKv(h.kv);
        const store = h.store({ kv: faulty });
        const session = await store.open(REF);
        faulty.inject({ nth: 1, when: 'before', operations: ['commit'] });
        await caught(session.close(), isStorageError);
        expect(session.closed).toBe(true);
        await caught(session.append(deposit(1)), isNotOpenError);
        await caught(store.open(REF), isOpenFailedError);

        await session.close();
        const next = await store.open(REF);
        expect((await next.append(deposit(1))).version).toBe(1);
      });

      for (const [name, run] of OPERATIONS) {
        it(`${name} after close: NOT_OPEN, nothing written`, async () => {
          const h = await setup();
          const store = h.store();
          const session = await store.open(REF);
          await fill(session);
          await session.close();

          const error = await caught<NotOpenError>(run(session), isNotOpenError);
          expect(error).toMatchObject({
            code: 'NOT_OPEN',
            stream: STREAM,
            sessionId: session.sessionId,
          });
          const view = store.stream(REF);
          expect(await view.version()).toBe(2);
          expect(await view.snapshotVersions()).toEqual([1]);
          const next = await store.open(REF);
          expect(next.closed).toBe(false);
        });
      }

      it('await using closes the session at the end of its block', async () => {
        const h = await setup();
        const store = h.store();
        let escaped: Session<BankEvent> | undefined;
        {
          await using session = await store.open(REF);
          escaped = session;
          await session.append(deposit(1));
          await caught(store.open(REF), isOpenFailedError);
        }
        expect(escaped.closed).toBe(true);
        await caught(escaped.read(), isNotOpenError);
        const next = await store.open(REF);
        expect(await next.version()).toBe(1);
      });

      it('await using closes the session when its block throws', async () => {
        const h = await setup();
        const store = h.store();
        let escaped: Session<BankEvent> | undefined;
        const failing = async () => {
          await using session = await store.open(REF);
          escaped = session;
          throw new Error('decision failed');
        };
        await expect(failing()).rejects.toThrow('decision failed');
        expect(escaped?.closed).toBe(true);
        const next = await store.open(REF);
        expect(next.closed).toBe(false);
      });

      it('renew extends the lease by the session timeout from now', async () => {
        const h = await setup();
        const store = h.store({ sessionTimeoutMs: 1_000 });
        const session = await store.open(REF);
        const start = h.clock.now();
        expect(session.expiresAt).toBe(start + 1_000);

        h.clock.advance(800);
        await session.renew();
        expect(session.expiresAt).toBe(start + 1_800);

        // Past the original expiry, before the renewed one.
        h.clock.advance(400);
        expect((await session.append(deposit(1))).version).toBe(1);
        const blocked = await caught<OpenFailedError>(store.open(REF), isOpenFailedError);
        expect(blocked.lockedUntil).toBe(start + 1_800);
        const locked = await caught<StreamLockedError>(
          store.stream(REF).append(deposit(2)),
          isStreamLockedError,
        );
        expect(locked.lockedUntil).toBe(start + 1_800);

        h.clock.set(start + 1_800);
        const error = await caught<SessionExpiredError>(
          session.append(deposit(3)),
          isSessionExpiredError,
        );
        expect(error.expiredAt).toBe(start + 1_800);
        expect(await store.stream(REF).version()).toBe(1);
      });

      it('a session can keep renewing for longer than one timeout', async () => {
        const h = await setup();
        const store = h.store({ sessionTimeoutMs: 1_000 });
        const session = await store.open(REF);
        for (let i = 1; i <= 5; i++) {
          h.clock.advance(900);
          await session.renew();
          await session.append(deposit(i));
        }
        expect(await session.version()).toBe(5);
        await caught(store.open(REF), isOpenFailedError);
      });
    });

    describe('session-less handles', () => {
      it('cannot write while a live session holds the stream, but can read', async () => {
        const h = await setup();
        const store = h.store();
        const view = store.stream(REF);
        await view.append(deposit(1));
        const session = await store.open(REF);
        await session.append(deposit(2));

        const error = await caught<StreamLockedError>(
          view.append(deposit(99), { expectedVersion: 2 }),
          isStreamLockedError,
        );
        expect(error).toMatchObject({
          code: 'STREAM_LOCKED',
          stream: STREAM,
          lockedUntil: session.expiresAt,
        });
        expect(error.message).toContain('BankAccount/42');
        expect(error.message).toContain('locked');

        expect(await view.version()).toBe(2);
        expect((await view.read()).map((e) => e.version)).toEqual([1, 2]);
        expect((await view.load()).version).toBe(2);
        expect((await session.append(deposit(3), { expectedVersion: 2 })).version).toBe(3);
      });

      it('can write again once the session closes', async () => {
        const h = await setup();
        const store = h.store();
        const view = store.stream(REF);
        const session = await store.open(REF);
        await session.append(deposit(1));
        await caught(view.append(deposit(2)), isStreamLockedError);
        await session.close();

        expect((await view.append(deposit(2), { expectedVersion: 1 })).version).toBe(2);
      });

      it('can write again once the session expires, and the expired session cannot', async () => {
        const h = await setup();
        const store = h.store({ sessionTimeoutMs: 1_000 });
        const view = store.stream(REF);
        const session = await store.open(REF);
        await session.append(deposit(1));
        h.clock.set(session.expiresAt);

        expect((await view.append(deposit(2), { expectedVersion: 1 })).version).toBe(2);
        await caught(session.append(deposit(99)), isSessionExpiredError);
        // The stream can be opened again after session-less writes.
        const next = await store.open(REF);
        expect(await next.version()).toBe(2);
      });

      it('a handle made before the session opened is locked out too', async () => {
        const h = await setup();
        const store = h.store();
        const early = store.stream(REF);
        await early.append(deposit(1));
        const session = await store.open(REF);
        await caught(early.append(deposit(2)), isStreamLockedError);
        await caught(h.store().stream(REF).append(deposit(2)), isStreamLockedError);
        expect(await session.version()).toBe(1);
      });
    });

    describe('per stream', () => {
      const pairs: readonly [label: string, held: StreamRef, other: StreamRef][] = [
        ['another id', REF, { type: 'BankAccount', id: '43' }],
        ['another type', REF, { type: 'Customer', id: '42' }],
        ['another database', REF, { database: 'tenant-b', type: 'BankAccount', id: '42' }],
        ['an id that starts with the same text', REF, { type: 'BankAccount', id: '420' }],
        [
          'a stream whose type and id join to the same text',
          { type: 'BankAccount', id: '42/x' },
          { type: 'BankAccount/42', id: 'x' },
        ],
      ];

      for (const [label, heldRef, other] of pairs) {
        it(`a session on one stream does not block ${label}`, async () => {
          const h = await setup();
          const store = h.store();
          const held = await store.open(heldRef);

          expect((await store.stream(other).append(deposit(1))).version).toBe(1);
          const session = await store.open(other);
          expect((await session.append(deposit(2))).version).toBe(2);
          expect((await held.append(deposit(3))).version).toBe(1);
          await caught(store.open(held.ref), isOpenFailedError);
        });
      }
    });

    describe('logs', () => {
      it('logs store.opened and store.closed (info) with stream and session id', async () => {
        const h = await setup();
        const { logger, entries } = recordingLogger();
        const store = h.store({ logger, sessionTimeoutMs: 1_000 });
        const session = await store.open(REF);
        await session.close();

        const opened = entries.find((e) => e.fields.event === 'store.opened');
        expect(opened).toMatchObject({
          level: 'info',
          fields: { ...STREAM, sessionId: session.sessionId, expiresAt: session.expiresAt },
        });
        const closed = entries.find((e) => e.fields.event === 'store.closed');
        expect(closed).toMatchObject({
          level: 'info',
          fields: { ...STREAM, sessionId: session.sessionId },
        });
      });

      it('taking over an expired lease is logged with the previous session id', async () => {
        const h = await setup();
        const { logger, entries } = recordingLogger();
        const store = h.store({ logger, sessionTimeoutMs: 1_000 });
        const expired = await store.open(REF);
        h.clock.advance(1_000);
        const next = await store.open(REF);

        const opened = entries.filter((e) => e.fields.event === 'store.opened');
        expect(opened).toHaveLength(2);
        expect(opened[1]).toMatchObject({
          level: 'info',
          fields: { sessionId: next.sessionId, tookOverExpiredSession: expired.sessionId },
        });
      });

      it('an operation on an expired session logs session.expired at warn', async () => {
        const h = await setup();
        const { logger, entries } = recordingLogger();
        const store = h.store({ logger, sessionTimeoutMs: 1_000 });
        const session = await store.open(REF);
        h.clock.advance(1_000);
        await caught(session.append(deposit(1)), isSessionExpiredError);
        await caught(session.read(), isSessionExpiredError);
        await caught(session.version(), isSessionExpiredError);

        // Once per session, however many calls the expiry rejects: logs must not flood.
        expect(entries.filter((e) => e.fields.event === 'session.expired')).toEqual([
          expect.objectContaining({
            level: 'warn',
            fields: expect.objectContaining({
              ...STREAM,
              sessionId: session.sessionId,
              expiredAt: session.expiresAt,
            }),
          }),
        ]);
      });

      it('a failed open logs open.failed at error with the stream and the lock', async () => {
        const h = await setup();
        const { logger, entries } = recordingLogger();
        const store = h.store({ logger });
        const holder = await store.open(REF);
        await caught(store.open(REF, { openTimeoutMs: 200 }), isOpenFailedError);

        expect(entries.filter((e) => e.fields.event === 'open.failed')).toEqual([
          expect.objectContaining({
            level: 'error',
            fields: expect.objectContaining({
              ...STREAM,
              openTimeoutMs: 200,
              lockedUntil: holder.expiresAt,
              holder: holder.sessionId,
            }),
          }),
        ]);
        expect(entries.filter((e) => e.fields.event === 'store.opened')).toHaveLength(1);
      });

      it('renew logs session.renewed at debug with the new expiry', async () => {
        const h = await setup();
        const { logger, entries } = recordingLogger();
        const store = h.store({ logger, sessionTimeoutMs: 1_000 });
        const session = await store.open(REF);
        h.clock.advance(500);
        await session.renew();

        expect(entries.find((e) => e.fields.event === 'session.renewed')).toMatchObject({
          level: 'debug',
          fields: { ...STREAM, sessionId: session.sessionId, expiresAt: session.expiresAt },
        });
      });

      it('a throwing logger does not fail opening, writing or closing', async () => {
        const h = await setup();
        const explode = () => {
          throw new Error('logger down');
        };
        const store = h.store({
          logger: { debug: explode, info: explode, warn: explode, error: explode },
        });
        const session = await store.open(REF);
        await session.append(deposit(1));
        await session.close();
        await caught(session.read(), isNotOpenError);
        expect(await store.stream(REF).version()).toBe(1);
      });
    });
  });
};
