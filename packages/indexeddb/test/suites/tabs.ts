import {
  createEventStore,
  isOpenFailedError,
  isVersionMismatchError,
  type RecordedEvent,
  type VersionMismatchError,
} from '@eventkv/core';
import { createManualClock } from '@eventkv/core/testing';
import { describe, expect, it } from 'vitest';
import { eventually, type TestBackend, useDatabases } from '../support/databases.js';

type Event = { type: 'Deposited'; data: { amount: number } };
const deposit = (amount: number) => ({ type: 'Deposited' as const, data: { amount } });
const ref = { type: 'Account', id: '42' };

/** Two adapters on one database are two tabs: separate connections, one storage. */
export const tabTests = (backend: TestBackend): void => {
  const database = useDatabases(backend);

  const twoTabs = () => {
    const db = database('tabs');
    const clock = createManualClock();
    const tab = () => createEventStore<Event>({ kv: db.connect(), clock, sessionTimeoutMs: 1000 });
    return { a: tab(), b: tab(), clock };
  };

  describe(`several tabs on one database (${backend.label})`, () => {
    it('lets exactly one of two racing appends win each expected version', async () => {
      const { a, b } = twoTabs();
      for (let version = 0; version < 5; version++) {
        const outcomes = await Promise.allSettled([
          a.stream(ref).append(deposit(1), { expectedVersion: version }),
          b.stream(ref).append(deposit(2), { expectedVersion: version }),
        ]);
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(isVersionMismatchError(lost[0])).toBe(true);
        expect(lost[0] as VersionMismatchError).toMatchObject({
          expected: version,
          actual: version + 1,
        });
      }
      expect(await a.stream(ref).version()).toBe(5);
      expect(await b.stream(ref).read()).toHaveLength(5);
    });

    it('keeps sessions exclusive across connections', async () => {
      const { a, b } = twoTabs();
      const session = await a.open(ref);
      expect(isOpenFailedError(await b.open(ref).catch((error: unknown) => error))).toBe(true);
      await session.append(deposit(5));
      await session.close();
      const next = await b.open(ref);
      await next.append(deposit(6));
      expect((await a.stream(ref).read()).map((e) => e.data.amount)).toEqual([5, 6]);
    });

    it('frees the lease of a tab that died without closing once its session times out', async () => {
      const db = database('tabs');
      const clock = createManualClock();
      const dying = db.connect();
      const a = createEventStore<Event>({ kv: dying, clock, sessionTimeoutMs: 1000 });
      const b = createEventStore<Event>({ kv: db.connect(), clock, sessionTimeoutMs: 1000 });
      await (await a.open(ref)).append(deposit(1));
      await dying.close(); // the tab is gone; its session was never closed
      expect(isOpenFailedError(await b.open(ref).catch((error: unknown) => error))).toBe(true);
      clock.advance(1001);
      const session = await b.open(ref);
      expect((await session.append(deposit(2))).version).toBe(2);
    });

    it('lets a reloaded tab resume its session from storage', async () => {
      const db = database('tabs');
      const clock = createManualClock();
      const tab = createEventStore<Event>({ kv: db.connect(), clock, sessionTimeoutMs: 1000 });
      const session = await tab.open(ref);
      await session.append(deposit(1));
      const reloaded = createEventStore<Event>({ kv: db.connect(), clock, sessionTimeoutMs: 1000 });
      const resumed = await reloaded.resume(ref, session.sessionId);
      expect((await resumed.append(deposit(2))).version).toBe(2);
      await resumed.close();
      // Closing the resumed session released the lease for the next opener.
      const next = await reloaded.open(ref);
      expect(next.sessionId).not.toBe(session.sessionId);
    });

    it('delivers events appended in one tab to a subscriber in another', async () => {
      const { a, b } = twoTabs();
      const received: RecordedEvent<Event>[] = [];
      const stop = b.stream(ref).subscribe((events) => received.push(...events), {
        from: 1,
        // Far beyond the test: only the change feed can deliver in time.
        pollIntervalMs: 60_000,
      });
      try {
        await a.stream(ref).append([deposit(1), deposit(2)]);
        await eventually(() => received.length === 2);
        await a.stream(ref).append(deposit(3));
        await eventually(() => received.length === 3);
        expect(received.map((e) => [e.version, e.data.amount])).toEqual([
          [1, 1],
          [2, 2],
          [3, 3],
        ]);
      } finally {
        stop();
      }
    });
  });
};
