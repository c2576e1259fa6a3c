import { createIndexedDbKv } from '@eventkv/indexeddb';
import { describe, expect, it, vi } from 'vitest';

/** Polls get time: a loaded machine starts a worker and opens IndexedDB slowly. */
const SLOW = { timeout: 15_000, interval: 20 };

import { createSyncedStore, type SyncRemote, startSync } from '../src/index.js';

// The agent in a worker context (no window, no document): it leads from a dedicated
// worker, and a page's agent follows it.

/** A remote this page never uses: the worker leads and syncs. */
const unused: SyncRemote = {
  database: 'acme',
  push: () => Promise.reject(new Error('the page does not push')),
  pull: () => Promise.reject(new Error('the page does not pull')),
};

describe('the sync agent in a worker', () => {
  it('leads from a dedicated worker; the page follows it and its appends are synced there', async () => {
    const name = `sync-worker-${crypto.randomUUID()}`;
    const worker = new Worker(new URL('./worker/agent-worker.ts', import.meta.url), {
      type: 'module',
    });
    const heard: { role?: string; hasDocument?: boolean; synced?: number }[] = [];
    worker.onmessage = (event) => heard.push(event.data);
    worker.postMessage({ name });
    try {
      await vi.waitFor(
        () =>
          expect(heard.find((m) => m.role === 'leader')).toEqual({
            role: 'leader',
            hasDocument: false,
          }),
        SLOW,
      );
      const kv = createIndexedDbKv({ name });
      const store = createSyncedStore({ kv, remote: unused });
      const agent = startSync(store, { name });
      try {
        expect(agent.role).toBe('follower');
        await store.stream({ type: 'Account', id: '1' }).append({ type: 'Opened' });
        await vi.waitFor(() => expect(heard.some((m) => (m.synced ?? 0) > 0)).toBe(true), SLOW);
        await vi.waitFor(async () => expect((await agent.status()).pending).toBe(0), SLOW);
      } finally {
        await agent.stop();
        kv.close?.();
      }
    } finally {
      worker.terminate();
    }
  });
});
