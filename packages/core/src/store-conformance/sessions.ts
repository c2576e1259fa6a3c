import { describe, expect, it } from 'vitest';
import {
  type InvalidArgumentError,
  isInvalidArgumentError,
  isNotOpenError,
  isOpenFailedError,
  isStreamLockedError,
  type NotOpenError,
  type OpenFailedError,
  type StreamLockedError,
} from '../errors.js';
import type { Session } from '../session.js';
import type { EventStream } from '../stream.js';
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

/** A lease no test outlives. */
const LONG_LEASE_MS = 60_000;

type Operation = readonly [name: string, run: (s: EventStream<BankEvent>) => Promise<unknown>];

/** The writes of a stream handle: none may pass a lease that is not the writer's. */
export const WRITES: readonly Operation[] = [
  ['append', (s) => s.append(deposit(100))],
  ['saveSnapshot', (s) => s.saveSnapshot(1, { balance: 1 })],
  ['deleteSnapshot', (s) => s.deleteSnapshot(1)],
  ['clearSnapshots', (s) => s.clearSnapshots()],
  ['snapshotEvery', (s) => s.snapshotEvery(1, () => 0)],
];

/** Every operation of a session handle. */
export const SESSION_OPERATIONS: readonly Operation[] = [
  ...WRITES,
  ['read', (s) => s.read()],
  ['version', (s) => s.version()],
  ['versionOf', (s) => s.versionOf('m-1')],
  ['latestSnapshot', (s) => s.latestSnapshot()],
  ['snapshotAt', (s) => s.snapshotAt(1)],
  ['snapshotVersions', (s) => s.snapshotVersions()],
  ['load', (s) => s.load()],
  ['renew', (s) => (s as Session<BankEvent>).renew()],
];

/**
 * What every lease test starts from: two events (message ids m-1, m-2) and a snapshot at
 * 1, so that each write of `WRITES` has something to do.
 */
export const fill = async (stream: EventStream<BankEvent>): Promise<void> => {
  await stream.append([deposit(1, { messageId: 'm-1' }), deposit(2, { messageId: 'm-2' })]);
  await stream.saveSnapshot(1, { balance: 1 });
};

/** What `fill` leaves, unchanged by any refused write. */
export const expectFilled = async (stream: EventStream<BankEvent>): Promise<void> => {
  expect(amounts(await stream.read())).toEqual([1, 2]);
  expect(await stream.snapshotVersions()).toEqual([1]);
};

/** Exclusive sessions: open, the lease, close, `await using`, renew. */
export const sessionTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  describe('sessions', () => {
    it('open takes the lease: the session writes and reads, and says until when it holds it', async () => {
      const store = await h.store();
      const before = Date.now();
      const session = await store.open(REF, { sessionTimeoutMs: LONG_LEASE_MS });
      const after = Date.now();
      try {
        expect(typeof session.sessionId).toBe('string');
        expect(session.sessionId.length).toBeGreaterThan(0);
        expect(session.closed).toBe(false);
        expect(session.ref).toEqual(store.stream(REF).ref);
        expect(session.expiresAt).toBeGreaterThanOrEqual(before + LONG_LEASE_MS - 1_000);
        expect(session.expiresAt).toBeLessThanOrEqual(after + LONG_LEASE_MS + 1_000);
        expect(await session.append(deposit(1), { expectedVersion: 'no-stream' })).toMatchObject({
          version: 1,
        });
        expect(amounts(await session.read())).toEqual([1]);
        expect(await session.version()).toBe(1);
        expect(amounts(await store.stream(REF).read())).toEqual([1]);
      } finally {
        await session.close();
      }
    });

    it('each open gets a session id of its own', async () => {
      const store = await h.store();
      const ids = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const session = await store.open(REF);
        ids.add(session.sessionId);
        await session.close();
      }
      expect(ids.size).toBe(3);
    });

    it('a second open of a held stream fails at once with OPEN_FAILED naming the holder', async () => {
      const store = await h.store();
      const first = await store.open(REF, { sessionTimeoutMs: LONG_LEASE_MS });
      try {
        const error = await caught<OpenFailedError>(
          store.open(REF, { openTimeoutMs: 0 }),
          isOpenFailedError,
        );
        expect(error).toMatchObject({
          code: 'OPEN_FAILED',
          stream: first.ref,
          openTimeoutMs: 0,
          lockedUntil: first.expiresAt,
          holder: first.sessionId,
        });
        // The holder is unaffected.
        await first.append(deposit(1));
      } finally {
        await first.close();
      }
    });

    for (const [name, write] of WRITES) {
      it(`a session-less ${name} on a held stream is STREAM_LOCKED and writes nothing; reads work`, async () => {
        const store = await h.store();
        const view = store.stream(REF);
        await fill(view);
        const session = await store.open(REF, { sessionTimeoutMs: LONG_LEASE_MS });
        try {
          const error = await caught<StreamLockedError>(write(view), isStreamLockedError);
          expect(error).toMatchObject({
            code: 'STREAM_LOCKED',
            stream: view.ref,
            lockedUntil: session.expiresAt,
          });
          await expectFilled(view);
          expect((await view.load()).snapshot?.version).toBe(1);
        } finally {
          await session.close();
        }
      });
    }

    it('a handle made before the session opened is locked out too, and writes again after close', async () => {
      const store = await h.store();
      const view = store.stream(REF);
      const session = await store.open(REF);
      await session.append(deposit(1));
      await caught(view.append(deposit(2)), isStreamLockedError);
      await session.close();
      await view.append(deposit(2), { expectedVersion: 1 });
      expect(amounts(await view.read())).toEqual([1, 2]);
    });

    it('close releases the lease: the next open succeeds at once', async () => {
      const store = await h.store();
      const first = await store.open(REF, { sessionTimeoutMs: LONG_LEASE_MS });
      await first.append(deposit(1));
      await first.close();
      expect(first.closed).toBe(true);
      const second = await store.open(REF, { openTimeoutMs: 0 });
      try {
        await second.append(deposit(2), { expectedVersion: 1 });
      } finally {
        await second.close();
      }
    });

    it('close is idempotent', async () => {
      const store = await h.store();
      const session = await store.open(REF);
      await session.close();
      await session.close();
      expect(session.closed).toBe(true);
      const next = await store.open(REF);
      await next.close();
    });

    for (const [name, run] of SESSION_OPERATIONS) {
      it(`${name} after close is NOT_OPEN, and writes nothing`, async () => {
        const store = await h.store();
        const session = await store.open(REF);
        await fill(session);
        await session.close();
        const error = await caught<NotOpenError>(run(session), isNotOpenError);
        expect(error).toMatchObject({
          code: 'NOT_OPEN',
          stream: session.ref,
          sessionId: session.sessionId,
        });
        await expectFilled(store.stream(REF));
      });
    }

    it('await using closes the session at the end of its block', async () => {
      const store = await h.store();
      let held: Session<BankEvent> | undefined;
      {
        await using session = await store.open(REF);
        held = session;
        await session.append(deposit(1));
        expect(session.closed).toBe(false);
      }
      expect(held.closed).toBe(true);
      await store.stream(REF).append(deposit(2), { expectedVersion: 1 });
    });

    it('await using closes the session when its block throws', async () => {
      const store = await h.store();
      let held: Session<BankEvent> | undefined;
      const thrown = await (async () => {
        await using session = await store.open(REF);
        held = session;
        await session.append(deposit(1));
        throw new Error('command failed');
      })().catch((error: unknown) => error);
      expect((thrown as Error).message).toBe('command failed');
      expect(held?.closed).toBe(true);
      const next = await store.open(REF, { openTimeoutMs: 0 });
      await next.close();
    });

    it('renew extends the lease by the session timeout from now', async () => {
      const store = await h.store();
      // Longer than SHORT_LEASE_MS: the checks after the first expiry make three calls,
      // each a request into a Durable Object on the remote stores, and must finish while
      // the renewed lease holds (about leaseMs / 2), on a loaded machine too: 2 s leaves
      // them a second, where 1 s left half of one and failed under load.
      const leaseMs = 2_000;
      const session = await store.open(REF, { sessionTimeoutMs: leaseMs });
      try {
        const opened = session.expiresAt;
        await pause(leaseMs / 2);
        const before = Date.now();
        await session.renew();
        const after = Date.now();
        expect(session.expiresAt).toBeGreaterThan(opened);
        expect(session.expiresAt).toBeGreaterThanOrEqual(before + leaseMs - 100);
        expect(session.expiresAt).toBeLessThanOrEqual(after + leaseMs + 100);
        // Past the first expiry, the renewed lease still holds.
        await pause(Math.max(0, opened - Date.now()) + 30);
        await session.append(deposit(1));
        await caught(store.stream(REF).append(deposit(2)), isStreamLockedError);
        await caught(store.open(REF, { openTimeoutMs: 0 }), isOpenFailedError);
      } finally {
        await session.close();
      }
    });

    it('open with an open timeout waits for the holder to close', async () => {
      const store = await h.store();
      const holder = await store.open(REF, { sessionTimeoutMs: LONG_LEASE_MS });
      const waiting = store.open(REF, { openTimeoutMs: 5_000 });
      await pause(100);
      await holder.close();
      const next = await waiting;
      try {
        await next.append(deposit(1));
      } finally {
        await next.close();
      }
    });

    it('open with an open timeout fails with OPEN_FAILED once it runs out', async () => {
      const store = await h.store();
      const holder = await store.open(REF, { sessionTimeoutMs: LONG_LEASE_MS });
      try {
        const started = Date.now();
        const error = await caught<OpenFailedError>(
          store.open(REF, { openTimeoutMs: 200 }),
          isOpenFailedError,
        );
        expect(Date.now() - started).toBeGreaterThanOrEqual(150);
        expect(error).toMatchObject({ openTimeoutMs: 200, holder: holder.sessionId });
      } finally {
        await holder.close();
      }
    });

    it('a session on one stream does not hold another', async () => {
      const store = await h.store();
      const session = await store.open(REF);
      try {
        await store.stream({ type: REF.type, id: 'other' }).append(deposit(1));
        await store.stream({ type: 'Card', id: REF.id }).append(deposit(2));
        const other = await store.open({ type: REF.type, id: 'other' });
        await other.close();
      } finally {
        await session.close();
      }
    });

    const BAD_OPEN_OPTIONS: readonly (readonly [object, string])[] = [
      [{ sessionTimeoutMs: 0 }, 'options.sessionTimeoutMs'],
      [{ sessionTimeoutMs: -1 }, 'options.sessionTimeoutMs'],
      [{ sessionTimeoutMs: 1.5 }, 'options.sessionTimeoutMs'],
      [{ openTimeoutMs: -1 }, 'options.openTimeoutMs'],
      [{ openTimeoutMs: 'soon' }, 'options.openTimeoutMs'],
    ];
    for (const [bad, field] of BAD_OPEN_OPTIONS) {
      it(`open with ${JSON.stringify(bad)} is INVALID_ARGUMENT naming ${field}, and takes no lease`, async () => {
        const store = await h.store();
        const error = await caught<InvalidArgumentError>(
          () => store.open(REF, bad),
          isInvalidArgumentError,
        );
        expect(error.field).toBe(field);
        await store.stream(REF).append(deposit(1));
      });
    }
  });
};
