import { createEventStore, createMemoryKv } from '@eventkv/core';
import { createReplica } from '@eventkv/core/replica';
import {
  createEdgeRemote,
  createSyncEdge,
  createSyncedStore,
  type SyncedStore,
} from '@eventkv/sync';
import { describe, expect, it } from 'vitest';
import { type BankEvent, LedgerRuleError } from '../src/domain';
import { createLedger, type Ledger } from '../src/ledger';

// The ledger over a synced store, as the demo runs it: two devices of one database, each
// with its own replica, syncing with one edge in process.

const alice = { userId: 'alice' };
const bob = { userId: 'bob' };

const twoDevices = () => {
  const edge = createSyncEdge({ replica: createReplica({ kv: createMemoryKv() }) });
  const device = (user: string): { store: SyncedStore<BankEvent>; ledger: Ledger } => {
    const store = createSyncedStore<BankEvent>({
      kv: createMemoryKv(),
      remote: createEdgeRemote(edge, { database: 'demo', user }),
    });
    return { store, ledger: createLedger(store) };
  };
  return { a: device('alice'), b: device('bob') };
};

/** Opens `id` with a deposit on device `a`, synced to both. */
const openShared = async (
  a: { store: SyncedStore<BankEvent>; ledger: Ledger },
  b: { store: SyncedStore<BankEvent> },
  id = 'acc-1',
) => {
  await a.ledger.execute(
    await a.ledger.load(id),
    { kind: 'open', owner: 'Ada', currency: 'EUR' },
    alice,
  );
  await a.ledger.execute(await a.ledger.load(id), { kind: 'deposit', amount: 10_000 }, alice);
  await a.store.sync.syncNow();
  await b.store.sync.syncNow();
};

describe('the ledger on a synced store', () => {
  it('lists accounts opened here and not yet synced, marked pending, beside the synced ones', async () => {
    const { a, b } = twoDevices();
    await openShared(a, b, 'shared');
    await b.ledger.execute(
      await b.ledger.load('mine'),
      { kind: 'open', owner: 'Bob', currency: 'GBP' },
      bob,
    );
    const listed = await b.ledger.listAccounts();
    expect(listed.map((x) => [x.id, x.pending ?? false])).toEqual([
      ['mine', true],
      ['shared', false],
    ]);
    await b.store.sync.syncNow();
    expect((await b.ledger.listAccounts()).map((x) => [x.id, x.pending ?? false])).toEqual([
      ['mine', false],
      ['shared', false],
    ]);
    // And the other device sees it after its own sync.
    await a.store.sync.syncNow();
    expect((await a.ledger.listAccounts()).map((x) => x.id)).toEqual(['mine', 'shared']);
  });

  it('shows a conflict of two offline withdrawals and retries the command on the new balance', async () => {
    const { a, b } = twoDevices();
    await openShared(a, b);
    // Both devices offline: each withdraws from what it saw.
    await a.ledger.execute(
      await a.ledger.load('acc-1'),
      { kind: 'withdraw', amount: 3_000 },
      alice,
    );
    await b.ledger.execute(await b.ledger.load('acc-1'), { kind: 'withdraw', amount: 2_000 }, bob);
    await a.store.sync.syncNow();
    await b.store.sync.syncNow();

    const conflict = await b.ledger.conflict('acc-1');
    expect(conflict?.kind).toBe('conflict');
    expect(conflict?.current.balance).toBe(7_000); // the Worker's: Alice's withdrawal included
    expect(conflict?.theirs.map((e) => e.type)).toEqual(['FundsWithdrawn']);
    expect(conflict?.mine).toEqual([
      {
        command: { kind: 'withdraw', amount: 2_000 },
        events: [expect.objectContaining({ type: 'FundsWithdrawn' })],
      },
    ]);

    await b.ledger.retryConflict('acc-1', bob);
    expect(await b.ledger.conflict('acc-1')).toBeUndefined();
    await b.store.sync.syncNow();
    await a.store.sync.syncNow();
    for (const device of [a, b]) {
      const account = await device.ledger.load('acc-1');
      expect(account.state.balance).toBe(5_000);
      expect(account.version).toBe(4);
    }
  });

  it('refuses to retry a command that no longer holds, and drops it on request', async () => {
    const { a, b } = twoDevices();
    await openShared(a, b);
    await a.ledger.execute(
      await a.ledger.load('acc-1'),
      { kind: 'withdraw', amount: 8_000 },
      alice,
    );
    await b.ledger.execute(await b.ledger.load('acc-1'), { kind: 'withdraw', amount: 5_000 }, bob);
    await a.store.sync.syncNow();
    await b.store.sync.syncNow();

    await expect(b.ledger.retryConflict('acc-1', bob)).rejects.toBeInstanceOf(LedgerRuleError);
    expect(await b.ledger.conflict('acc-1')).toBeDefined(); // still there, to drop

    await b.ledger.dropConflict('acc-1');
    expect(await b.ledger.conflict('acc-1')).toBeUndefined();
    expect((await b.ledger.load('acc-1')).state.balance).toBe(2_000);
    expect((await b.store.sync.status()).pending).toBe(0);
  });

  it('has no conflicts on a store that does not sync, and says so when asked to settle one', async () => {
    const plain = createLedger(createEventStore<BankEvent>({ kv: createMemoryKv() }));
    expect(await plain.conflict('acc-1')).toBeUndefined();
    await expect(plain.retryConflict('acc-1', alice)).rejects.toThrow(/synced store/);
    await expect(plain.dropConflict('acc-1')).rejects.toThrow(/synced store/);
  });
});
