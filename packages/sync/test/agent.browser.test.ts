import { createMemoryKv } from '@eventkv/core';
import { createReplica } from '@eventkv/core/replica';
import { createIndexedDbKv } from '@eventkv/indexeddb';
import { describe, expect, it, vi } from 'vitest';

/** Polls get time: a loaded machine starts a worker and opens IndexedDB slowly. */
const SLOW = { timeout: 15_000, interval: 20 };

import {
  createEdgeRemote,
  createSyncEdge,
  createSyncedStore,
  type SyncAgentEvent,
  type SyncRemote,
  startSync,
} from '../src/index.js';

const principal = { database: 'acme', user: 'ann' };
const account = { type: 'Account', id: '42' };

// The agent with fake locks and channels is tested in Node (agent.test.ts); this is the
// real thing, in Chromium (the sync-browser project).
describe('the sync agent in Chromium', () => {
  it('two tabs on one IndexedDB: one leads (a Web Lock), the other follows over a BroadcastChannel and takes over', async () => {
    const name = `sync-agent-${crypto.randomUUID()}`;
    const edge = createSyncEdge({ replica: createReplica({ kv: createMemoryKv() }) });
    const openTab = () => {
      // Each tab has its own connection to the same IndexedDB database, as two tabs do.
      const kv = createIndexedDbKv({ name });
      const base = createEdgeRemote(edge, principal);
      const counts = { push: 0 };
      const remote: SyncRemote = {
        ...base,
        push: (request) => {
          counts.push++;
          return base.push(request);
        },
      };
      const store = createSyncedStore({ kv, remote });
      const agent = startSync(store, { name });
      const heard: SyncAgentEvent[] = [];
      agent.on((event) => heard.push(event));
      return { kv, store, agent, counts, heard };
    };
    const edgeTypes = async () => {
      const probe = createSyncedStore({
        kv: createMemoryKv(),
        remote: createEdgeRemote(edge, principal),
      });
      await probe.sync.syncNow();
      return (await probe.stream(account).read()).map((e) => e.type);
    };

    const a = openTab();
    await vi.waitFor(() => expect(a.agent.role).toBe('leader'), SLOW);
    const b = openTab();
    try {
      const locks = await navigator.locks.query();
      await vi.waitFor(async () => {
        const now = await navigator.locks.query();
        expect(now.pending?.filter((lock) => lock.name === name)).toHaveLength(1);
      }, SLOW);
      expect(locks.held?.filter((lock) => lock.name === name)).toHaveLength(1);
      expect(b.agent.role).toBe('follower');

      // The follower's append is synced by the leader; its syncNow is answered by it.
      await b.store.stream(account).append({ type: 'Opened', data: { owner: 'ann' } });
      await vi.waitFor(async () => expect(await edgeTypes()).toEqual(['Opened']), SLOW);
      await expect(b.agent.syncNow()).resolves.toMatchObject({ pulled: 0 });
      expect(b.counts.push).toBe(0);
      expect(a.counts.push).toBeGreaterThan(0);
      // And it hears the leader's status and events.
      await vi.waitFor(() => {
        expect(b.heard.map((e) => e.type)).toContain('synced');
        expect(b.heard.filter((e) => e.type === 'status').at(-1)).toMatchObject({
          status: { role: 'follower', pending: 0, lastSuccessAt: expect.any(Number) },
        });
      }, SLOW);

      // The leader goes (its tab closes): the follower gets the lock and syncs from now on.
      await a.agent.stop();
      await vi.waitFor(() => expect(b.agent.role).toBe('leader'), SLOW);
      await b.store.stream(account).append({ type: 'Deposited', data: { amount: 5 } });
      await vi.waitFor(
        async () => expect(await edgeTypes()).toEqual(['Opened', 'Deposited']),
        SLOW,
      );
      expect(b.counts.push).toBeGreaterThan(0);
      // The edge has them before the replica has written the push's outcome.
      await vi.waitFor(
        async () =>
          expect(await b.agent.status()).toMatchObject({
            role: 'leader',
            pending: 0,
            online: true,
          }),
        SLOW,
      );
    } finally {
      await a.agent.stop();
      await b.agent.stop();
      await a.kv.close();
      await b.kv.close();
      await new Promise((resolve) => {
        const request = indexedDB.deleteDatabase(name);
        request.onsuccess = request.onerror = request.onblocked = resolve;
      });
    }
  });
});
