import { createEventStore } from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import { useDatabases } from './support/databases.js';

const activated = (worker: ServiceWorker): Promise<void> =>
  worker.state === 'activated'
    ? Promise.resolve()
    : new Promise((resolve) => {
        worker.addEventListener('statechange', () => {
          if (worker.state === 'activated') resolve();
        });
      });

describe('a service worker and a page on one database (Chromium)', () => {
  const database = useDatabases({ label: 'Chromium', factory: () => indexedDB, deleteAfter: true });

  it('sees what the service worker appended', async () => {
    const db = database('service-worker');
    const url = new URL('./support/service-worker.ts', import.meta.url);
    const registration = await navigator.serviceWorker.register(url, { type: 'module' });
    try {
      const worker = (registration.installing ?? registration.waiting ?? registration.active)!;
      await activated(worker);
      const reply = await new Promise<{ version?: number; error?: string }>((resolve) => {
        navigator.serviceWorker.addEventListener('message', (event) => resolve(event.data), {
          once: true,
        });
        worker.postMessage({ name: db.name, count: 3 });
      });
      expect(reply).toEqual({ version: 3 });
      const kv = db.connect();
      const stream = createEventStore({ kv }).stream({ type: 'Account', id: 'sw' });
      expect((await stream.read()).map((e) => e.data)).toEqual([
        { amount: 1 },
        { amount: 2 },
        { amount: 3 },
      ]);
    } finally {
      await registration.unregister();
    }
  });
});
