import { describe, expect, it } from 'vitest';
import {
  type InvalidArgumentError,
  isInvalidArgumentError,
  isSnapshotVersionNotFoundError,
  isVersionNotFoundError,
  type SnapshotVersionNotFoundError,
  type VersionNotFoundError,
} from '../errors.js';
import type { EventStream } from '../stream.js';
import type { RecordedEvent } from '../types.js';
import {
  amounts,
  type BankEvent,
  caught,
  deposit,
  REF,
  type StoreConformanceOptions,
  type StoreHarness,
  versions,
} from './harness.js';

interface Balance {
  readonly balance: number;
}

/** Deposits 1, 2, ..., n: the balance at version v is v(v+1)/2. */
const fill = async (stream: EventStream<BankEvent>, n: number): Promise<void> => {
  await stream.append(Array.from({ length: n }, (_, i) => deposit(i + 1)));
};

const sum = (state: number | undefined, events: RecordedEvent<BankEvent>[]): number =>
  events.reduce((total, e) => total + (e.type === 'Deposited' ? e.data.amount : 0), state ?? 0);

/** Snapshots: save, latest, at, versions, load, delete, clear, snapshotEvery. */
export const snapshotTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  describe('snapshots', () => {
    const stream = async (events: number) => {
      const s = (await h.store()).stream(REF);
      if (events > 0) await fill(s, events);
      return s;
    };

    it('a stream without snapshots has no latest snapshot and no snapshot versions', async () => {
      const s = await stream(2);
      expect(await s.latestSnapshot()).toBeUndefined();
      expect(await s.snapshotVersions()).toEqual([]);
      expect(await s.clearSnapshots()).toBe(0);
    });

    it('saves at any version up to the head, stamped with the time of saving', async () => {
      const s = await stream(3);
      const before = Date.now();
      await s.saveSnapshot<Balance>(3, { balance: 6 });
      const after = Date.now();
      await s.saveSnapshot<Balance>(1, { balance: 1 });
      const latest = await s.latestSnapshot<Balance>();
      expect(latest).toMatchObject({ version: 3, state: { balance: 6 } });
      expect(latest!.takenAt).toBeGreaterThanOrEqual(before - 1_000);
      expect(latest!.takenAt).toBeLessThanOrEqual(after + 1_000);
      expect(await s.snapshotAt<Balance>(1)).toMatchObject({ version: 1, state: { balance: 1 } });
      expect(await s.snapshotVersions()).toEqual([1, 3]);
    });

    it('the latest snapshot has the highest version, whatever the order of saving; versions ascend numerically', async () => {
      const s = await stream(12);
      for (const v of [10, 2, 12, 9, 1]) await s.saveSnapshot(v, { at: v });
      expect(await s.snapshotVersions()).toEqual([1, 2, 9, 10, 12]);
      expect((await s.latestSnapshot())?.version).toBe(12);
    });

    it('saving again at a version replaces that snapshot', async () => {
      const s = await stream(2);
      await s.saveSnapshot(2, { balance: 0 });
      await s.saveSnapshot(2, { balance: 3 });
      expect((await s.snapshotAt<Balance>(2)).state).toEqual({ balance: 3 });
      expect(await s.snapshotVersions()).toEqual([2]);
    });

    it('saving beyond the head is VERSION_NOT_FOUND with the current version, nothing saved', async () => {
      for (const events of [0, 3]) {
        const s = await stream(events);
        const error = await caught<VersionNotFoundError>(
          s.saveSnapshot(events + 1, { balance: 0 }),
          isVersionNotFoundError,
        );
        expect(error).toMatchObject({
          code: 'VERSION_NOT_FOUND',
          stream: s.ref,
          version: events + 1,
          currentVersion: events,
        });
        expect(await s.snapshotVersions()).toEqual([]);
      }
    });

    it('snapshotAt a version without a snapshot is SNAPSHOT_VERSION_NOT_FOUND', async () => {
      const s = await stream(3);
      await s.saveSnapshot(2, { balance: 3 });
      for (const version of [1, 3, 4]) {
        const error = await caught<SnapshotVersionNotFoundError>(
          s.snapshotAt(version),
          isSnapshotVersionNotFoundError,
        );
        expect(error).toMatchObject({
          code: 'SNAPSHOT_VERSION_NOT_FOUND',
          stream: s.ref,
          version,
        });
      }
    });

    it('deleteSnapshot removes one; the latest falls back to the one before; events stay', async () => {
      const s = await stream(3);
      await s.saveSnapshot(1, { balance: 1 });
      await s.saveSnapshot(3, { balance: 6 });
      await s.deleteSnapshot(3);
      expect(await s.snapshotVersions()).toEqual([1]);
      expect((await s.latestSnapshot())?.version).toBe(1);
      await caught(s.snapshotAt(3), isSnapshotVersionNotFoundError);
      expect(versions(await s.read())).toEqual([1, 2, 3]);
      const error = await caught<SnapshotVersionNotFoundError>(
        s.deleteSnapshot(3),
        isSnapshotVersionNotFoundError,
      );
      expect(error).toMatchObject({ stream: s.ref, version: 3 });
      expect(await s.snapshotVersions()).toEqual([1]);
    });

    it('clearSnapshots removes them all and returns how many; the history stays', async () => {
      const s = await stream(4);
      for (const v of [1, 2, 4]) await s.saveSnapshot(v, { at: v });
      expect(await s.clearSnapshots()).toBe(3);
      expect(await s.snapshotVersions()).toEqual([]);
      expect(await s.latestSnapshot()).toBeUndefined();
      expect(await s.clearSnapshots()).toBe(0);
      expect(amounts(await s.read())).toEqual([1, 2, 3, 4]);
      const load = await s.load();
      expect(load.snapshot).toBeUndefined();
      expect(versions(load.events)).toEqual([1, 2, 3, 4]);
    });

    describe('load', () => {
      it('without a snapshot: every event, and the version', async () => {
        const s = await stream(3);
        const { snapshot, events, version } = await s.load();
        expect(snapshot).toBeUndefined();
        expect(events).toEqual(await s.read());
        expect(version).toBe(3);
      });

      it('with snapshots: the latest one and exactly the events after it', async () => {
        const s = await stream(5);
        await s.saveSnapshot<Balance>(2, { balance: 3 });
        await s.saveSnapshot<Balance>(3, { balance: 6 });
        const { snapshot, events, version } = await s.load<Balance>();
        expect(snapshot).toMatchObject({ version: 3, state: { balance: 6 } });
        expect(events).toEqual(await s.read({ from: 4 }));
        expect(version).toBe(5);
        expect(sum(snapshot!.state.balance, events)).toBe(15);
      });

      it('with a snapshot at the head: the snapshot and no events', async () => {
        const s = await stream(2);
        await s.saveSnapshot<Balance>(2, { balance: 3 });
        const { snapshot, events, version } = await s.load<Balance>();
        expect(snapshot?.version).toBe(2);
        expect(events).toEqual([]);
        expect(version).toBe(2);
      });
    });

    describe('snapshotEvery', () => {
      it('snapshots after each full chunk of n events, not after a partial last chunk', async () => {
        const s = await stream(7);
        const chunks: number[][] = [];
        const saved = await s.snapshotEvery<number>(3, (state, events) => {
          chunks.push(versions(events));
          return sum(state, events);
        });
        expect(saved).toEqual([3, 6]);
        expect(chunks).toEqual([
          [1, 2, 3],
          [4, 5, 6],
        ]);
        expect((await s.snapshotAt<number>(3)).state).toBe(6);
        expect((await s.snapshotAt<number>(6)).state).toBe(21);
        expect(await s.snapshotVersions()).toEqual([3, 6]);
      });

      it('continues from the latest snapshot, whoever saved it', async () => {
        const s = await stream(5);
        await s.saveSnapshot(2, 3);
        expect(await s.snapshotEvery<number>(2, sum)).toEqual([4]);
        expect((await s.snapshotAt<number>(4)).state).toBe(10);
        await s.append([deposit(6), deposit(7)]);
        expect(await s.snapshotEvery<number>(2, sum)).toEqual([6]);
        expect((await s.latestSnapshot<number>())?.state).toBe(21);
      });

      it('with fewer than n new events it folds nothing and saves nothing', async () => {
        const s = await stream(2);
        let folds = 0;
        const saved = await s.snapshotEvery<number>(3, (state, events) => {
          folds += 1;
          return sum(state, events);
        });
        expect(saved).toEqual([]);
        expect(folds).toBe(0);
        expect(await s.snapshotVersions()).toEqual([]);
      });

      it('an async fold works; a failing fold keeps the snapshots of the chunks before it', async () => {
        const s = await stream(6);
        const fold = async (state: number | undefined, events: RecordedEvent<BankEvent>[]) => {
          await Promise.resolve();
          if (events[0]!.version > 2) throw new Error('fold failed');
          return sum(state, events);
        };
        const error = await s.snapshotEvery(2, fold).catch((e: unknown) => e);
        expect((error as Error).message).toBe('fold failed');
        expect(await s.snapshotVersions()).toEqual([2]);
        expect((await s.snapshotAt<number>(2)).state).toBe(3);
      });

      it('an invalid chunk size is INVALID_ARGUMENT naming it, and nothing is folded', async () => {
        const s = await stream(2);
        for (const every of [0, -1, 1.5]) {
          const error = await caught<InvalidArgumentError>(
            () => s.snapshotEvery(every, () => 0),
            isInvalidArgumentError,
          );
          expect(error.field).toBe('every');
        }
        expect(await s.snapshotVersions()).toEqual([]);
      });
    });

    it("snapshots belong to their stream: another stream's are invisible", async () => {
      const store = await h.store();
      const a = store.stream(REF);
      const b = store.stream({ type: REF.type, id: 'other' });
      await fill(a, 2);
      await fill(b, 2);
      await a.saveSnapshot(2, { balance: 3 });
      expect(await b.snapshotVersions()).toEqual([]);
      expect(await b.latestSnapshot()).toBeUndefined();
      expect(await b.clearSnapshots()).toBe(0);
      expect(await a.snapshotVersions()).toEqual([2]);
    });
  });
};
