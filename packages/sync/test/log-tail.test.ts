import { createMemoryKv } from '@eventkv/core';
import { createReplica } from '@eventkv/core/replica';
import { describe, expect, it } from 'vitest';
import { createEdgeRemote, createSyncEdge, createSyncedStore } from '../src/index.js';

type Ledger = { type: 'Deposited'; data: { amount: number } };
const principal = { database: 'acme', user: 'ann' };
const deposit = (amount: number) => ({ type: 'Deposited' as const, data: { amount } });

describe("a synced store's log tail (subscribeLog, logPosition)", () => {
  it("delivers the replica's log, the edge's events pulled into it included, from a position", async () => {
    const edge = createSyncEdge({ replica: createReplica({ kv: createMemoryKv() }) });
    const replica = () =>
      createSyncedStore<Ledger>({
        kv: createMemoryKv(),
        remote: createEdgeRemote(edge, principal),
      });
    const other = replica();
    await other.stream({ type: 'Account', id: '1' }).append([deposit(1), deposit(2)]);
    await other.sync.syncNow();

    const mine = replica();
    expect(await mine.logPosition()).toBe(0);
    const seen: number[] = [];
    const stop = mine.subscribeLog((events) => seen.push(...events.map((e) => e.data.amount)), {
      after: 0,
      pollIntervalMs: 10,
    });
    try {
      await mine.sync.syncNow();
      await expect.poll(() => seen).toEqual([1, 2]);
      const log = await mine.readLog();
      expect(await mine.logPosition()).toBe(log.position);
      expect(log.events.map((e) => e.data.amount)).toEqual([1, 2]);
    } finally {
      stop();
    }
    // Options are checked as every store checks them.
    const error = (() => {
      try {
        mine.subscribeLog(() => {}, { after: -1 });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'options.after' });
  });
});
