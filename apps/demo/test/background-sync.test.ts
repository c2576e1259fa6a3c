import { createMemoryKv } from '@eventkv/core';
import { kvGet } from '@eventkv/core/kv';
import { describe, expect, it } from 'vitest';
import { DATABASE } from '../src/backends';
import { SETTINGS_RECORD, syncInBackground } from '../src/background-sync';
import { createTestEdge, edgeSettings, testBackend } from './support';

// What the service worker runs when the browser fires Background Sync: one sync of the
// replica with the Worker the app was connected to, from the replica's storage alone.

const actor = { userId: 'alice' };

describe('syncInBackground', () => {
  it('pushes what waits in the replica, with the settings the app kept beside it', async () => {
    const edge = createTestEdge();
    const kv = createMemoryKv();
    const backend = testBackend({ settings: edgeSettings, edge, kv });
    try {
      await expect
        .poll(async () => (await kvGet(kv, [SETTINGS_RECORD]))[0])
        .toEqual({ ...edgeSettings, database: DATABASE });
      // Offline: the account waits in the outbox.
      edge.reachable = false;
      const account = await backend.ledger.load('acc-1');
      await backend.ledger.execute(account, { kind: 'open', owner: 'Ada', currency: 'EUR' }, actor);
      await backend.agent.stop();
      expect((await backend.store.sync.status()).pending).toBe(1);

      edge.reachable = true;
      await expect(syncInBackground(kv, { fetch: edge.fetch })).resolves.toMatchObject({
        pushed: 1,
      });
      const other = edge.device('bob');
      await other.store.sync.syncNow();
      expect((await other.ledger.load('acc-1')).state.owner).toBe('Ada');
    } finally {
      await backend.close();
    }
  });

  it('rejects while the Worker cannot be reached, so the browser tries again, keeping the outbox', async () => {
    const edge = createTestEdge();
    const kv = createMemoryKv();
    const backend = testBackend({ settings: edgeSettings, edge, kv });
    try {
      edge.reachable = false;
      const account = await backend.ledger.load('acc-1');
      await backend.ledger.execute(account, { kind: 'open', owner: 'Ada', currency: 'EUR' }, actor);
      await backend.agent.stop();
      await expect.poll(async () => (await kvGet(kv, [SETTINGS_RECORD]))[0]).toBeDefined();
      await expect(syncInBackground(kv, { fetch: edge.fetch })).rejects.toThrow();
      expect((await backend.store.sync.status()).pending).toBe(1);
    } finally {
      await backend.close();
    }
  });

  it('does nothing where no Worker was ever set up', async () => {
    const edge = createTestEdge();
    await expect(syncInBackground(createMemoryKv(), { fetch: edge.fetch })).resolves.toEqual({
      pushed: 0,
      pulled: 0,
    });
    expect(edge.requests).toEqual([]);
  });
});
