import {
  createEventStore,
  isVersionMismatchError,
  type RecordedEvent,
  type Unsubscribe,
  VersionMismatchError,
} from '@eventkv/core';
import { createManualClock } from '@eventkv/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type BankEvent, initialState, LedgerRuleError } from '../src/domain';
import { advance, createLedger, type LedgerEvent, type LoadedAccount } from '../src/ledger';
import { memoryLedger, seedAccount } from './support';

const alice = { userId: 'alice' };
const bob = { userId: 'bob' };

describe('listAccounts', () => {
  it('is empty before any account is opened', async () => {
    const { ledger } = memoryLedger();
    expect(await ledger.listAccounts()).toEqual([]);
  });

  it('lists every opened account, newest first', async () => {
    const clock = createManualClock(Date.UTC(2026, 10, 22, 9));
    const { ledger } = memoryLedger(undefined, clock);
    for (const [id, owner, currency] of [
      ['a', 'Ada', 'EUR'],
      ['b', 'Babbage', 'GBP'],
      ['c', 'Curie', 'CHF'],
    ] as const) {
      await seedAccount(ledger, { id, owner, currency, deposits: [100] });
      clock.advance(1000);
    }
    expect(await ledger.listAccounts()).toEqual([
      { id: 'c', owner: 'Curie', currency: 'CHF', openedAt: Date.UTC(2026, 10, 22, 9, 0, 2) },
      { id: 'b', owner: 'Babbage', currency: 'GBP', openedAt: Date.UTC(2026, 10, 22, 9, 0, 1) },
      { id: 'a', owner: 'Ada', currency: 'EUR', openedAt: Date.UTC(2026, 10, 22, 9) },
    ]);
  });

  it('reads past the first page of the index', async () => {
    const clock = createManualClock();
    const { ledger } = memoryLedger(undefined, clock);
    for (let n = 0; n < 103; n++) {
      await ledger.execute(
        { id: `acc-${n}`, state: initialState, version: 0 },
        { kind: 'open', owner: `Owner ${n}`, currency: 'EUR' },
        alice,
      );
      clock.advance(1);
    }
    const accounts = await ledger.listAccounts();
    expect(accounts).toHaveLength(103);
    expect(accounts[0]!.id).toBe('acc-102');
    expect(accounts.at(-1)!.id).toBe('acc-0');
    expect(new Set(accounts.map((a) => a.id)).size).toBe(103);
  });
});

describe('load', () => {
  it('loads an account that does not exist as the initial state at version 0', async () => {
    const { ledger } = memoryLedger();
    expect(await ledger.load('nobody')).toEqual({
      id: 'nobody',
      state: initialState,
      version: 0,
      snapshotVersion: undefined,
      replayed: 0,
    });
  });

  it('replays every event without a snapshot', async () => {
    const { ledger } = memoryLedger();
    await seedAccount(ledger, { id: 'x', deposits: [1000, 250] });
    expect(await ledger.load('x')).toEqual({
      id: 'x',
      state: { status: 'open', owner: 'Ada Lovelace', currency: 'EUR', balance: 1250 },
      version: 3,
      snapshotVersion: undefined,
      replayed: 3,
    });
  });

  it('starts from the latest snapshot and replays only the events after it', async () => {
    const { ledger } = memoryLedger();
    await seedAccount(ledger, { id: 'x', deposits: [1000, 250] });
    await ledger.snapshot(await ledger.load('x'));
    const atThree = await ledger.load('x');
    expect(atThree).toMatchObject({ version: 3, snapshotVersion: 3, replayed: 0 });
    expect(atThree.state.balance).toBe(1250);

    await ledger.execute(atThree, { kind: 'withdraw', amount: 50 }, alice);
    const loaded = await ledger.load('x');
    expect(loaded).toMatchObject({ version: 4, snapshotVersion: 3, replayed: 1 });
    expect(loaded.state).toEqual({
      status: 'open',
      owner: 'Ada Lovelace',
      currency: 'EUR',
      balance: 1200,
    });
  });
});

describe('timeline', () => {
  it('gives the newest events first, at most `limit`, up to a version when asked', async () => {
    const { ledger } = memoryLedger();
    await seedAccount(ledger, { deposits: [100, 200, 300, 400] });
    const versions = (events: LedgerEvent[]) => events.map((event) => event.version);
    expect(versions(await ledger.timeline('acc-1'))).toEqual([5, 4, 3, 2, 1]);
    expect(versions(await ledger.timeline('acc-1', 2))).toEqual([5, 4]);
    expect(versions(await ledger.timeline('acc-1', 2, 3))).toEqual([3, 2]);
    expect(await ledger.timeline('nobody')).toEqual([]);
    expect(await ledger.timeline('nobody', 50, 0)).toEqual([]);
  });
});

describe('execute', () => {
  it('appends the decided events with who acted and one correlation id', async () => {
    const { ledger } = memoryLedger();
    const opened = await ledger.execute(
      { id: 'x', state: initialState, version: 0 },
      { kind: 'open', owner: 'Ada', currency: 'EUR' },
      alice,
    );
    expect(opened.version).toBe(1);
    expect(opened.events).toEqual([
      { type: 'AccountOpened', data: { owner: 'Ada', currency: 'EUR' } },
    ]);
    const deposited = await ledger.execute(
      await ledger.load('x'),
      { kind: 'deposit', amount: 700 },
      bob,
    );
    expect(deposited.version).toBe(2);
    expect(deposited.correlationId).not.toBe(opened.correlationId);

    const [first, second] = await ledger.stream('x').read();
    expect(first).toMatchObject({
      type: 'AccountOpened',
      version: 1,
      metadata: { userId: 'alice', correlationId: opened.correlationId, aggregateId: 'x' },
    });
    expect(second).toMatchObject({
      type: 'FundsDeposited',
      data: { amount: 700 },
      version: 2,
      metadata: { userId: 'bob', correlationId: deposited.correlationId },
    });
  });

  it('writes nothing when the rules refuse the command', async () => {
    const { ledger } = memoryLedger();
    await seedAccount(ledger, { id: 'x', deposits: [100] });
    let called = false;
    await expect(
      ledger.execute(await ledger.load('x'), { kind: 'withdraw', amount: 101 }, alice, {
        beforeAppend: async () => {
          called = true;
        },
      }),
    ).rejects.toThrow(LedgerRuleError);
    expect(called).toBe(false);
    expect(await ledger.stream('x').version()).toBe(2);
  });

  it('expects the version the command was decided at', async () => {
    const { ledger } = memoryLedger();
    await seedAccount(ledger, { id: 'x', deposits: [100] });
    const stale = await ledger.load('x');
    await ledger.execute(stale, { kind: 'deposit', amount: 1 }, bob);
    const error = await ledger
      .execute(stale, { kind: 'withdraw', amount: 100 }, alice)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VersionMismatchError);
    expect(error).toMatchObject({ expected: 2, actual: 3 });
    expect(await ledger.stream('x').version()).toBe(3);
  });

  it('refuses to open an account someone else opened meanwhile', async () => {
    const { ledger } = memoryLedger();
    const before = { id: 'x', state: initialState, version: 0 };
    await ledger.execute(before, { kind: 'open', owner: 'Ada', currency: 'EUR' }, alice);
    const error = await ledger
      .execute(before, { kind: 'open', owner: 'Bob', currency: 'USD' }, bob)
      .catch((e: unknown) => e);
    expect(isVersionMismatchError(error)).toBe(true);
    expect(error).toMatchObject({ expected: 'no-stream', actual: 1 });
    expect((await ledger.load('x')).state.owner).toBe('Ada');
  });

  it('fails whole when another writer appends between decision and write', async () => {
    const { ledger } = memoryLedger();
    await seedAccount(ledger, { id: 'x', deposits: [1000] });
    const loaded = await ledger.load('x');
    const error = await ledger
      .execute(loaded, { kind: 'withdraw', amount: 1000 }, alice, {
        beforeAppend: async (stream) => {
          await stream.append(
            {
              type: 'FundsDeposited',
              data: { amount: 100 },
              metadata: { userId: 'another-device' },
            },
            { expectedVersion: loaded.version },
          );
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VersionMismatchError);
    expect(error).toMatchObject({ expected: 2, actual: 3 });

    const events = await ledger.stream('x').read();
    expect(events.map((e) => [e.type, e.metadata.userId])).toEqual([
      ['AccountOpened', 'alice'],
      ['FundsDeposited', 'alice'],
      ['FundsDeposited', 'another-device'],
    ]);
    expect((await ledger.load('x')).state.balance).toBe(1100);
  });
});

describe('snapshots', () => {
  it('saves the loaded state at its version and lists the versions', async () => {
    const { ledger } = memoryLedger();
    await seedAccount(ledger, { id: 'x', deposits: [100] });
    expect(await ledger.latestSnapshot('x')).toBeUndefined();
    expect(await ledger.snapshotVersions('x')).toEqual([]);

    const atTwo = await ledger.load('x');
    await ledger.snapshot(atTwo);
    await ledger.execute(atTwo, { kind: 'deposit', amount: 50 }, alice);
    const atThree = await ledger.load('x');
    await ledger.snapshot(atThree);

    expect(await ledger.snapshotVersions('x')).toEqual([2, 3]);
    const latest = await ledger.latestSnapshot('x');
    expect(latest).toMatchObject({ version: 3, state: atThree.state });
    expect(latest!.state.balance).toBe(150);
  });
});

describe('follow', () => {
  let stop: Unsubscribe | undefined;
  afterEach(() => stop?.());

  it('delivers the events appended after the loaded version, by anyone', async () => {
    const { kv, ledger } = memoryLedger();
    const other = memoryLedger(kv).ledger; // another tab over the same storage
    await seedAccount(ledger, { id: 'x', deposits: [100] });
    const loaded = await ledger.load('x');

    const received: LedgerEvent[] = [];
    const errors: unknown[] = [];
    let arrived: () => void = () => {};
    const two = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    stop = ledger.follow(
      'x',
      loaded.version,
      (events) => {
        received.push(...events);
        if (received.length >= 2) arrived();
      },
      (error) => errors.push(error),
    );

    await other.execute(await other.load('x'), { kind: 'deposit', amount: 40 }, bob);
    await other.execute(await other.load('x'), { kind: 'withdraw', amount: 15 }, bob);
    await two;

    expect(received.map((e) => [e.version, e.type, e.metadata.userId])).toEqual([
      [3, 'FundsDeposited', 'bob'],
      [4, 'FundsWithdrawn', 'bob'],
    ]);
    expect(errors).toEqual([]);
    expect(advance(loaded, received)).toMatchObject({ version: 4, state: { balance: 125 } });
  });
});

describe('audit', () => {
  const start = Date.UTC(2026, 10, 22, 9);

  /** Three accounts with events a second apart, by alice and bob. */
  const seeded = async () => {
    const clock = createManualClock(start);
    const { ledger } = memoryLedger(undefined, clock);
    const act = async (id: string, actor: { userId: string }, amount?: number) => {
      const account = await ledger.load(id);
      await ledger.execute(
        account,
        amount === undefined
          ? { kind: 'open', owner: id, currency: 'EUR' }
          : { kind: 'deposit', amount },
        actor,
      );
      clock.advance(1000);
    };
    await act('a', alice); // t+0
    await act('b', bob); // t+1s
    await act('a', alice, 100); // t+2s
    await act('b', bob, 200); // t+3s
    await act('a', bob, 300); // t+4s
    await act('c', alice); // t+5s
    await act('c', alice, 400); // t+6s
    return ledger;
  };
  const summary = (events: readonly RecordedEvent<BankEvent>[]) =>
    events.map((e) => `${e.metadata.aggregateId}${e.version}:${e.type}`);

  it('finds a user’s events across accounts, oldest first', async () => {
    const ledger = await seeded();
    const page = await ledger.audit({ by: 'user', value: 'alice' });
    expect(summary(page.events)).toEqual([
      'a1:AccountOpened',
      'a2:FundsDeposited',
      'c1:AccountOpened',
      'c2:FundsDeposited',
    ]);
    expect(page.cursor).toBeUndefined();
    expect((await ledger.audit({ by: 'user', value: 'nobody' })).events).toEqual([]);
  });

  it('finds events by type', async () => {
    const ledger = await seeded();
    const page = await ledger.audit({ by: 'eventType', value: 'FundsDeposited' });
    expect(summary(page.events)).toEqual([
      'a2:FundsDeposited',
      'b2:FundsDeposited',
      'a3:FundsDeposited',
      'c2:FundsDeposited',
    ]);
    expect(page.events.map((e) => e.metadata.userId)).toEqual(['alice', 'bob', 'bob', 'alice']);
  });

  it('keeps to [since, until)', async () => {
    const ledger = await seeded();
    const page = await ledger.audit({
      by: 'eventType',
      value: 'FundsDeposited',
      since: start + 3000,
      until: start + 6000,
    });
    expect(summary(page.events)).toEqual(['b2:FundsDeposited', 'a3:FundsDeposited']);
    const bobs = await ledger.audit({ by: 'user', value: 'bob', since: start + 1000 });
    expect(summary(bobs.events)).toEqual([
      'b1:AccountOpened',
      'b2:FundsDeposited',
      'a3:FundsDeposited',
    ]);
    const early = await ledger.audit({ by: 'user', value: 'bob', until: start + 1000 });
    expect(early.events).toEqual([]);
  });

  it('pages with a cursor until the last page', async () => {
    const ledger = await seeded();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await ledger.audit({
        by: 'eventType',
        value: 'FundsDeposited',
        limit: 3,
        ...(cursor === undefined ? {} : { cursor }),
      });
      expect(page.events.length).toBeLessThanOrEqual(3);
      seen.push(...summary(page.events));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined && pages < 10);
    expect(pages).toBe(2);
    expect(seen).toEqual([
      'a2:FundsDeposited',
      'b2:FundsDeposited',
      'a3:FundsDeposited',
      'c2:FundsDeposited',
    ]);
  });

  it('keeps to the ledger’s database', async () => {
    const { kv, ledger } = memoryLedger();
    await seedAccount(ledger, { id: 'x', deposits: [100] });
    const tenant = createLedger(createEventStore<BankEvent>({ kv }), 'tenant-2');
    expect(await tenant.listAccounts()).toEqual([]);
    expect((await tenant.audit({ by: 'user', value: 'alice' })).events).toEqual([]);
    expect((await tenant.load('x')).version).toBe(0);
    await seedAccount(tenant, { id: 'y', owner: 'Other' });
    expect((await tenant.listAccounts()).map((a) => a.id)).toEqual(['y']);
    expect((await ledger.listAccounts()).map((a) => a.id)).toEqual(['x']);
  });
});

describe('advance', () => {
  const base: LoadedAccount = {
    id: 'x',
    state: { status: 'open', owner: 'Ada', currency: 'EUR', balance: 100 },
    version: 2,
    snapshotVersion: undefined,
    replayed: 2,
  };

  it('applies the events that follow the version, skipping ones already applied or out of order', async () => {
    const { ledger } = memoryLedger();
    await seedAccount(ledger, { id: 'x', deposits: [100, 20, 3, 4000] });
    const events = await ledger.stream('x').read(); // versions 1..5
    const [, v2, v3, v4, v5] = events;

    expect(advance(base, [v3!, v4!])).toMatchObject({ version: 4, state: { balance: 123 } });
    expect(advance(base, [v2!, v3!])).toMatchObject({ version: 3, state: { balance: 120 } });
    expect(advance(base, [v4!, v5!])).toEqual(base); // a gap: nothing applies
    expect(advance(base, [])).toEqual(base);
    expect(advance(base, [v3!, v3!, v4!]).state.balance).toBe(123);
  });
});
