import { describe, expect, it } from 'vitest';
import {
  type InvalidArgumentError,
  isInvalidArgumentError,
  isNotOpenError,
  isSessionExpiredError,
  isSnapshotVersionNotFoundError,
  isStreamLockedError,
  isVersionNotFoundError,
  type SnapshotVersionNotFoundError,
  type StreamLockedError,
  type VersionNotFoundError,
} from '../errors.js';
import type { EventStream } from '../stream.js';
import type { RecordedEvent, StreamRef } from '../types.js';
import {
  type BankEvent,
  type ConformanceOptions,
  caught,
  deposit,
  recordingLogger,
  useHarness,
} from './harness.js';

const REF = { type: 'BankAccount', id: 'snap-1' } as const;
const STREAM = { database: 'default', type: 'BankAccount', id: 'snap-1' } as const;

interface Balance {
  readonly balance: number;
}

/** Appends deposits of 1, 2, ..., n (so the balance after version v is v(v+1)/2). */
const fill = async (stream: EventStream<BankEvent>, n: number): Promise<void> => {
  const from = (await stream.version()) + 1;
  const events = Array.from({ length: n }, (_, i) => deposit(from + i));
  if (events.length > 0) await stream.append(events);
};

const sum = (state: number | undefined, events: readonly RecordedEvent<BankEvent>[]): number =>
  events.reduce((total, e) => (e.type === 'Deposited' ? total + e.data.amount : total), state ?? 0);

const versions = (events: readonly RecordedEvent<BankEvent>[]) => events.map((e) => e.version);

/** Attempts a mutation; a frozen value refusing it (TypeError in strict mode) is fine too. */
const tryMutate = (mutate: () => void): void => {
  try {
    mutate();
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
};

const INVALID_VERSIONS: readonly unknown[] = [
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '3',
  undefined,
];

export const snapshotTests = (options: ConformanceOptions): void => {
  describe('snapshots', () => {
    const setup = useHarness(options);

    describe('seed user story 4', () => {
      it('Given an event store with events, When I store a snapshot at the current version, Then the snapshot is persisted with its version number', async () => {
        const h = await setup();
        const store = h.store();
        const stream = store.stream(REF);
        await fill(stream, 3);
        await stream.saveSnapshot(await stream.version(), { balance: 6 });

        // Persisted: a store opened later over the same KV sees it.
        const later = h.store().stream(REF);
        expect(await later.snapshotVersions()).toEqual([3]);
        expect(await later.latestSnapshot<Balance>()).toEqual({
          version: 3,
          state: { balance: 6 },
          takenAt: h.clock.now(),
        });
      });

      it('Given an event store with a snapshot at version N and events through version M, When I retrieve events with snapshot support, Then I receive the snapshot plus events from N+1 to M', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 4);
        await stream.saveSnapshot(2, 3);
        await stream.saveSnapshot(4, 10);
        await fill(stream, 3);

        const loaded = await stream.load<number>();
        expect(loaded.snapshot).toMatchObject({ version: 4, state: 10 });
        expect(versions(loaded.events)).toEqual([5, 6, 7]);
        expect(loaded.version).toBe(7);
        expect(sum(loaded.snapshot?.state, loaded.events)).toBe(28);
      });

      it('Given an event store with multiple snapshots, When I clear snapshots, Then all snapshots are removed and full event history is available', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 5);
        for (const version of [1, 3, 5]) await stream.saveSnapshot(version, { balance: version });

        expect(await stream.clearSnapshots()).toBe(3);
        expect(await stream.snapshotVersions()).toEqual([]);
        expect(await stream.latestSnapshot()).toBeUndefined();
        await caught(stream.snapshotAt(3), isSnapshotVersionNotFoundError);
        expect(versions(await stream.read())).toEqual([1, 2, 3, 4, 5]);
        const loaded = await stream.load();
        expect(loaded.snapshot).toBeUndefined();
        expect(versions(loaded.events)).toEqual([1, 2, 3, 4, 5]);
        expect(loaded.version).toBe(5);
      });
    });

    describe('saving', () => {
      it('saves at any version up to the head, stamped with the clock', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 3);
        const first = h.clock.now();
        await stream.saveSnapshot(1, { balance: 1 });
        h.clock.advance(1_000);
        await stream.saveSnapshot(3, { balance: 6 });

        expect(await stream.snapshotAt(1)).toEqual({
          version: 1,
          state: { balance: 1 },
          takenAt: first,
        });
        expect(await stream.snapshotAt(3)).toEqual({
          version: 3,
          state: { balance: 6 },
          takenAt: first + 1_000,
        });
        // Saving a snapshot appends nothing.
        expect(await stream.version()).toBe(3);
      });

      it('saving again at the same version replaces that snapshot', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 2);
        await stream.saveSnapshot(2, { balance: 0 });
        h.clock.advance(10);
        await stream.saveSnapshot(2, { balance: 3 });

        expect(await stream.snapshotVersions()).toEqual([2]);
        expect(await stream.snapshotAt(2)).toEqual({
          version: 2,
          state: { balance: 3 },
          takenAt: h.clock.now(),
        });
      });

      it('saving beyond the head fails with VERSION_NOT_FOUND and stores nothing', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 3);
        await stream.saveSnapshot(2, { balance: 3 });

        const error = await caught<VersionNotFoundError>(
          stream.saveSnapshot(4, { balance: 10 }),
          isVersionNotFoundError,
        );
        expect(error).toMatchObject({
          code: 'VERSION_NOT_FOUND',
          stream: STREAM,
          version: 4,
          currentVersion: 3,
        });
        expect(error.message).toContain('BankAccount/snap-1');
        expect(error.message).toContain('current version 3');
        expect(await stream.snapshotVersions()).toEqual([2]);
        expect((await stream.latestSnapshot())?.version).toBe(2);
      });

      it('saving on an empty stream fails with VERSION_NOT_FOUND (current 0)', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        const error = await caught<VersionNotFoundError>(
          stream.saveSnapshot(1, { balance: 0 }),
          isVersionNotFoundError,
        );
        expect(error).toMatchObject({ version: 1, currentVersion: 0 });
        expect(await stream.snapshotVersions()).toEqual([]);
      });

      it('invalid versions are rejected with INVALID_ARGUMENT naming the version', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 3);
        await stream.saveSnapshot(3, { balance: 6 });

        for (const version of INVALID_VERSIONS) {
          const bad = version as number;
          for (const run of [
            () => stream.saveSnapshot(bad, { balance: -1 }),
            () => stream.snapshotAt(bad),
            () => stream.deleteSnapshot(bad),
          ]) {
            const error = await caught<InvalidArgumentError>(run(), isInvalidArgumentError);
            expect(error.field).toBe('version');
            expect(error.message).toContain('version');
          }
        }
        expect(await stream.snapshotVersions()).toEqual([3]);
      });

      it('logs snapshot.saved at info with the stream and version', async () => {
        const h = await setup();
        const { logger, entries } = recordingLogger();
        const stream = h.store({ logger }).stream(REF);
        await fill(stream, 2);
        await stream.saveSnapshot(2, { balance: 3 });

        expect(entries.find((e) => e.fields.event === 'snapshot.saved')).toMatchObject({
          level: 'info',
          fields: { ...STREAM, version: 2 },
        });
      });
    });

    describe('reading', () => {
      it('a stream without snapshots has no latest snapshot and no snapshot versions', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        expect(await stream.latestSnapshot()).toBeUndefined();
        expect(await stream.snapshotVersions()).toEqual([]);
        await fill(stream, 2);
        expect(await stream.latestSnapshot()).toBeUndefined();
        expect(await stream.snapshotVersions()).toEqual([]);
      });

      it('the latest snapshot has the highest version, whatever the save order', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 12);
        for (const version of [10, 9, 2, 11, 1]) {
          await stream.saveSnapshot(version, { balance: version });
        }
        expect(await stream.latestSnapshot<Balance>()).toMatchObject({
          version: 11,
          state: { balance: 11 },
        });
        await stream.deleteSnapshot(11);
        // Version 10 sorts after 9 (and after 2): numeric order, not text order.
        expect((await stream.latestSnapshot())?.version).toBe(10);
      });

      it('snapshotVersions lists versions in ascending numeric order', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 120);
        for (const version of [100, 9, 10, 1, 20, 2, 99]) {
          await stream.saveSnapshot(version, { balance: version });
        }
        expect(await stream.snapshotVersions()).toEqual([1, 2, 9, 10, 20, 99, 100]);
      });

      it('snapshotAt gets that version, or fails with SNAPSHOT_VERSION_NOT_FOUND', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 5);
        await stream.saveSnapshot(2, { balance: 3 });
        await stream.saveSnapshot(4, { balance: 10 });

        expect(await stream.snapshotAt<Balance>(2)).toMatchObject({
          version: 2,
          state: { balance: 3 },
        });
        for (const missing of [1, 3, 5, 6]) {
          const error = await caught<SnapshotVersionNotFoundError>(
            stream.snapshotAt(missing),
            isSnapshotVersionNotFoundError,
          );
          expect(error).toMatchObject({
            code: 'SNAPSHOT_VERSION_NOT_FOUND',
            stream: STREAM,
            version: missing,
          });
          expect(error.message).toContain('BankAccount/snap-1');
          expect(error.message).toContain('snapshotVersions()');
        }
      });
    });

    describe('deleting', () => {
      it('deleteSnapshot removes one; the latest falls back to the previous one', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 5);
        for (const version of [2, 4, 5]) await stream.saveSnapshot(version, { balance: version });

        await stream.deleteSnapshot(5);
        expect(await stream.snapshotVersions()).toEqual([2, 4]);
        expect((await stream.latestSnapshot())?.version).toBe(4);
        await caught(stream.snapshotAt(5), isSnapshotVersionNotFoundError);
        expect((await stream.load()).snapshot?.version).toBe(4);
        expect(versions((await stream.load()).events)).toEqual([5]);
        expect(await stream.version()).toBe(5);
      });

      it('deleteSnapshot of a missing version: SNAPSHOT_VERSION_NOT_FOUND', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 3);
        await stream.saveSnapshot(2, { balance: 3 });

        const error = await caught<SnapshotVersionNotFoundError>(
          stream.deleteSnapshot(3),
          isSnapshotVersionNotFoundError,
        );
        expect(error).toMatchObject({ stream: STREAM, version: 3 });
        await stream.deleteSnapshot(2);
        await caught(stream.deleteSnapshot(2), isSnapshotVersionNotFoundError);
        expect(await stream.snapshotVersions()).toEqual([]);
      });

      it('clearSnapshots returns how many it removed, and 0 when there are none', async () => {
        const h = await setup();
        const { logger, entries } = recordingLogger();
        const stream = h.store({ logger }).stream(REF);
        expect(await stream.clearSnapshots()).toBe(0);
        await fill(stream, 12);
        for (const version of [1, 2, 9, 10, 12]) {
          await stream.saveSnapshot(version, { balance: version });
        }

        expect(await stream.clearSnapshots()).toBe(5);
        expect(await stream.clearSnapshots()).toBe(0);
        expect(await stream.snapshotVersions()).toEqual([]);
        expect(entries.filter((e) => e.fields.event === 'snapshots.cleared')).toEqual([
          expect.objectContaining({
            level: 'info',
            fields: expect.objectContaining({ ...STREAM, count: 5 }),
          }),
        ]);

        // New snapshots can be saved after a clear.
        await stream.saveSnapshot(12, { balance: 78 });
        expect(await stream.snapshotVersions()).toEqual([12]);
      });
    });

    describe('load', () => {
      it('load of a stream without events is empty at version 0', async () => {
        const h = await setup();
        const loaded = await h.store().stream(REF).load();
        expect(loaded).toEqual({ snapshot: undefined, events: [], version: 0 });
      });

      it('load without a snapshot returns every event', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 4);
        const loaded = await stream.load<number>();
        expect(loaded.snapshot).toBeUndefined();
        expect(versions(loaded.events)).toEqual([1, 2, 3, 4]);
        expect(loaded.events).toEqual(await stream.read());
        expect(loaded.version).toBe(4);
      });

      it('load with a snapshot at the head returns the snapshot and no events', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 4);
        await stream.saveSnapshot(4, 10);
        const loaded = await stream.load<number>();
        expect(loaded.snapshot).toMatchObject({ version: 4, state: 10 });
        expect(loaded.events).toEqual([]);
        expect(loaded.version).toBe(4);
      });

      it('load returns the same events as a read from the snapshot on', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 6);
        await stream.saveSnapshot(3, 6);
        const loaded = await stream.load<number>();
        expect(loaded.events).toEqual(await stream.read({ from: 4 }));
        expect(sum(loaded.snapshot?.state, loaded.events)).toBe(21);
      });
    });

    describe('snapshotEvery', () => {
      it('snapshots at n, 2n, ... but not after a partial last chunk', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 7);
        const calls: { state: number | undefined; versions: number[] }[] = [];

        const saved = await stream.snapshotEvery<number>(3, (state, events) => {
          calls.push({ state, versions: versions(events) });
          return sum(state, events);
        });

        expect(saved).toEqual([3, 6]);
        expect(calls).toEqual([
          { state: undefined, versions: [1, 2, 3] },
          { state: 6, versions: [4, 5, 6] },
        ]);
        expect(await stream.snapshotVersions()).toEqual([3, 6]);
        expect((await stream.snapshotAt<number>(3)).state).toBe(6);
        expect((await stream.snapshotAt<number>(6)).state).toBe(21);
        const loaded = await stream.load<number>();
        expect(versions(loaded.events)).toEqual([7]);
        expect(sum(loaded.snapshot?.state, loaded.events)).toBe(28);
      });

      it('a second call continues from the latest snapshot', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 7);
        await stream.snapshotEvery<number>(3, sum);
        await fill(stream, 3);

        const calls: { state: number | undefined; versions: number[] }[] = [];
        const saved = await stream.snapshotEvery<number>(3, (state, events) => {
          calls.push({ state, versions: versions(events) });
          return sum(state, events);
        });
        expect(saved).toEqual([9]);
        expect(calls).toEqual([{ state: 21, versions: [7, 8, 9] }]);
        expect((await stream.snapshotAt<number>(9)).state).toBe(45);
        expect(await stream.snapshotVersions()).toEqual([3, 6, 9]);
      });

      it('continues from a snapshot saved by hand, whatever its version', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 8);
        await stream.saveSnapshot(2, 3);

        const saved = await stream.snapshotEvery<number>(3, sum);
        expect(saved).toEqual([5, 8]);
        expect((await stream.snapshotAt<number>(8)).state).toBe(36);
      });

      it('with fewer than n new events it folds nothing and saves nothing', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        let calls = 0;
        const count = (state: number | undefined, events: RecordedEvent<BankEvent>[]) => {
          calls++;
          return sum(state, events);
        };
        expect(await stream.snapshotEvery<number>(3, count)).toEqual([]);
        await fill(stream, 2);
        expect(await stream.snapshotEvery<number>(3, count)).toEqual([]);
        expect(calls).toBe(0);
        expect(await stream.snapshotVersions()).toEqual([]);
      });

      it('an async fold works', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 4);
        const saved = await stream.snapshotEvery<Balance>(2, async (state, events) => {
          await Promise.resolve();
          return { balance: sum(state?.balance, events) };
        });
        expect(saved).toEqual([2, 4]);
        expect((await stream.snapshotAt<Balance>(2)).state).toEqual({ balance: 3 });
        expect((await stream.latestSnapshot<Balance>())?.state).toEqual({ balance: 10 });
      });

      it('a failing fold keeps the snapshots of the chunks before it', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 6);
        let chunk = 0;
        const failing = stream.snapshotEvery<number>(2, (state, events) => {
          chunk++;
          if (chunk === 2) throw new Error('fold failed');
          return sum(state, events);
        });
        await expect(failing).rejects.toThrow('fold failed');
        expect(await stream.snapshotVersions()).toEqual([2]);

        // Retrying resumes after the snapshot that was saved.
        expect(await stream.snapshotEvery<number>(2, sum)).toEqual([4, 6]);
        expect((await stream.latestSnapshot<number>())?.state).toBe(21);
      });

      it('an invalid chunk size or fold: INVALID_ARGUMENT, nothing folded', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 4);
        let calls = 0;
        const count = (state: number | undefined, events: RecordedEvent<BankEvent>[]) => {
          calls++;
          return sum(state, events);
        };
        for (const every of [0, -1, 1.5, Number.NaN, '2', undefined]) {
          const error = await caught<InvalidArgumentError>(
            stream.snapshotEvery<number>(every as number, count),
            isInvalidArgumentError,
          );
          expect(error.field).toBe('every');
        }
        const error = await caught<InvalidArgumentError>(
          stream.snapshotEvery<number>(2, 'sum' as never),
          isInvalidArgumentError,
        );
        expect(error.field).toBe('fold');
        expect(calls).toBe(0);
        expect(await stream.snapshotVersions()).toEqual([]);
      });
    });

    describe('states', () => {
      it('states round-trip Dates, BigInt, Map, Set, nesting and primitives', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 3);
        const state = {
          openedAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
          cents: 2n ** 70n,
          byCurrency: new Map<string, bigint>([
            ['EUR', 10n],
            ['USD', -3n],
          ]),
          tags: new Set(['vip', 'frozen']),
          history: [{ at: new Date(5), amounts: [1, 2.5, -0] }],
          nothing: null,
        };
        await stream.saveSnapshot(1, state);
        await stream.saveSnapshot(2, 'text');
        await stream.saveSnapshot(3, null);

        const first = await stream.snapshotAt<typeof state>(1);
        expect(first.state).toEqual(state);
        expect(first.state.openedAt).toBeInstanceOf(Date);
        expect(first.state.openedAt.getTime()).toBe(state.openedAt.getTime());
        expect(first.state.cents).toBe(2n ** 70n);
        expect(first.state.byCurrency).toBeInstanceOf(Map);
        expect(first.state.byCurrency.get('USD')).toBe(-3n);
        expect(first.state.tags).toBeInstanceOf(Set);
        expect(first.state.tags.has('vip')).toBe(true);
        expect(first.state.history[0]?.at).toBeInstanceOf(Date);
        expect((await stream.snapshotAt(2)).state).toBe('text');
        expect((await stream.latestSnapshot())?.state).toBeNull();

        await stream.deleteSnapshot(3);
        await stream.deleteSnapshot(2);
        expect((await stream.latestSnapshot<typeof state>())?.state).toEqual(state);
        expect((await stream.load<typeof state>()).snapshot?.state).toEqual(state);
      });

      it('an unstorable state: INVALID_ARGUMENT naming the field, nothing stored', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 2);
        class Money {
          constructor(readonly cents: number) {}
        }
        const unstorable: [string, unknown][] = [
          ['state.account.onChange', { account: { balance: 1, onChange: () => 0 } }],
          ['state.tag', { tag: Symbol('vip') }],
          ['state.money', { money: new Money(5) }],
          ['state.items[1]', { items: [1, () => 2] }],
          ['state', () => 0],
        ];
        for (const [field, state] of unstorable) {
          const error = await caught<InvalidArgumentError>(
            stream.saveSnapshot(2, state),
            isInvalidArgumentError,
          );
          expect(error.field).toBe(field);
          expect(error.message).toContain(field);
        }
        expect(await stream.snapshotVersions()).toEqual([]);
      });

      it('mutating a state after saving it does not change the stored snapshot', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 1);
        const state = {
          balance: 1,
          owners: ['ada'],
          openedAt: new Date(1_000),
          limits: new Map([['daily', 100]]),
          flags: new Set(['new']),
        };
        await stream.saveSnapshot(1, state);

        state.balance = 99;
        state.owners.push('mallory');
        state.openedAt.setTime(0);
        state.limits.set('daily', 0);
        state.flags.add('hacked');

        expect((await stream.snapshotAt<typeof state>(1)).state).toEqual({
          balance: 1,
          owners: ['ada'],
          openedAt: new Date(1_000),
          limits: new Map([['daily', 100]]),
          flags: new Set(['new']),
        });
      });

      it('mutating a returned snapshot does not change the stored snapshot', async () => {
        const h = await setup();
        const stream = h.store().stream(REF);
        await fill(stream, 1);
        const original = () => ({
          balance: 1,
          owners: ['ada'],
          openedAt: new Date(1_000),
          limits: new Map([['daily', 100]]),
          flags: new Set(['new']),
        });
        await stream.saveSnapshot(1, original());

        type State = ReturnType<typeof original>;
        const readers = [
          async () => stream.snapshotAt<State>(1),
          async () => (await stream.latestSnapshot<State>())!,
          async () => (await stream.load<State>()).snapshot!,
        ];
        for (const read of readers) {
          const snapshot = await read();
          const state = snapshot.state as { -readonly [K in keyof State]: State[K] };
          tryMutate(() => {
            state.balance = 99;
          });
          tryMutate(() => state.owners.push('mallory'));
          tryMutate(() => state.openedAt.setTime(0));
          tryMutate(() => state.limits.set('daily', 0));
          tryMutate(() => state.flags.add('hacked'));
          tryMutate(() => {
            (snapshot as { version: number }).version = 7;
          });
        }

        const stored = await stream.snapshotAt<State>(1);
        expect(stored.version).toBe(1);
        expect(stored.state).toEqual(original());
      });
    });

    describe('under a session lease', () => {
      it('session-less snapshot writes on a held stream fail with STREAM_LOCKED', async () => {
        const h = await setup();
        const store = h.store();
        const view = store.stream(REF);
        await fill(view, 3);
        await view.saveSnapshot(1, { balance: 1 });
        const session = await store.open(REF);

        const error = await caught<StreamLockedError>(
          view.saveSnapshot(3, { balance: 6 }),
          isStreamLockedError,
        );
        expect(error).toMatchObject({ stream: STREAM, lockedUntil: session.expiresAt });
        await caught(view.deleteSnapshot(1), isStreamLockedError);
        await caught(view.clearSnapshots(), isStreamLockedError);
        let folds = 0;
        await caught(
          view.snapshotEvery<number>(1, (state, events) => {
            folds += 1;
            return sum(state, events);
          }),
          isStreamLockedError,
        );
        // The lock is seen before any of the caller's work is done for nothing.
        expect(folds).toBe(0);

        expect(await view.snapshotVersions()).toEqual([1]);
        // Reading snapshots needs no lease.
        expect((await view.latestSnapshot<Balance>())?.state).toEqual({ balance: 1 });
        expect((await view.load()).snapshot?.version).toBe(1);
      });

      it('the session writes snapshots; session-less writes resume after close', async () => {
        const h = await setup();
        const store = h.store();
        const session = await store.open(REF);
        await fill(session, 4);
        await session.saveSnapshot(2, { balance: 3 });
        expect(await session.snapshotEvery<number>(2, sum)).toEqual([4]);
        await session.deleteSnapshot(2);
        expect(await session.snapshotVersions()).toEqual([4]);
        expect(await session.clearSnapshots()).toBe(1);
        await session.saveSnapshot(4, { balance: 10 });
        await session.close();

        const view = store.stream(REF);
        expect(await view.snapshotVersions()).toEqual([4]);
        await view.saveSnapshot(3, { balance: 6 });
        expect(await view.snapshotVersions()).toEqual([3, 4]);
      });

      it('an expired session cannot write snapshots; a session-less handle can', async () => {
        const h = await setup();
        const store = h.store({ sessionTimeoutMs: 1_000 });
        const session = await store.open(REF);
        await fill(session, 3);
        await session.saveSnapshot(2, { balance: 3 });
        h.clock.advance(1_000);

        await caught(session.saveSnapshot(3, { balance: 6 }), isSessionExpiredError);
        await caught(session.deleteSnapshot(2), isSessionExpiredError);
        await caught(session.clearSnapshots(), isSessionExpiredError);
        await caught(session.snapshotEvery<number>(1, sum), isSessionExpiredError);
        const view = store.stream(REF);
        expect(await view.snapshotVersions()).toEqual([2]);

        await view.saveSnapshot(3, { balance: 6 });
        expect(await view.snapshotVersions()).toEqual([2, 3]);
      });

      it('a closed session cannot save snapshots', async () => {
        const h = await setup();
        const store = h.store();
        const session = await store.open(REF);
        await fill(session, 1);
        await session.close();
        await caught(session.saveSnapshot(1, { balance: 1 }), isNotOpenError);
        expect(await store.stream(REF).snapshotVersions()).toEqual([]);
      });
    });

    describe('isolation', () => {
      const others: readonly [string, StreamRef][] = [
        ['another id', { type: 'BankAccount', id: 'snap-2' }],
        ['an id that starts with the same text', { type: 'BankAccount', id: 'snap-10' }],
        ['another type', { type: 'Customer', id: 'snap-1' }],
        ['another database', { database: 'tenant-b', type: 'BankAccount', id: 'snap-1' }],
      ];

      for (const [label, ref] of others) {
        it(`snapshots of one stream are invisible to ${label}`, async () => {
          const h = await setup();
          const store = h.store();
          const stream = store.stream(REF);
          await fill(stream, 3);
          await stream.saveSnapshot(2, { balance: 3 });
          const other = store.stream(ref);
          await fill(other, 3);

          expect(await other.latestSnapshot()).toBeUndefined();
          expect(await other.snapshotVersions()).toEqual([]);
          await caught(other.snapshotAt(2), isSnapshotVersionNotFoundError);
          await caught(other.deleteSnapshot(2), isSnapshotVersionNotFoundError);
          expect((await other.load()).snapshot).toBeUndefined();
          expect(await other.clearSnapshots()).toBe(0);

          await other.saveSnapshot(3, { balance: -1 });
          expect(await other.clearSnapshots()).toBe(1);
          expect(await stream.snapshotVersions()).toEqual([2]);
          expect((await stream.latestSnapshot<Balance>())?.state).toEqual({ balance: 3 });
        });
      }

      it('snapshot versions of a stream count its own events only', async () => {
        const h = await setup();
        const store = h.store();
        await fill(store.stream({ type: 'BankAccount', id: 'snap-2' }), 5);
        const stream = store.stream(REF);
        await fill(stream, 1);
        const error = await caught<VersionNotFoundError>(
          stream.saveSnapshot(5, { balance: 15 }),
          isVersionNotFoundError,
        );
        expect(error.currentVersion).toBe(1);
      });
    });
  });
};
