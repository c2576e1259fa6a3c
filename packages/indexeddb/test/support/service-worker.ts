/// <reference lib="webworker" />
import { createEventStore } from '@eventkv/core';
import { createIndexedDbKv } from '../../src/index.js';

// A service worker appending to a database a page also uses: no DOM, no window in here.
const worker = self as unknown as ServiceWorkerGlobalScope;
worker.addEventListener('install', () => void worker.skipWaiting());
worker.addEventListener('activate', (event) => event.waitUntil(worker.clients.claim()));
worker.addEventListener('message', (event) => {
  const { name, count } = event.data as { name: string; count: number };
  const reply = (data: unknown) => (event.source as Client | null)?.postMessage(data);
  event.waitUntil(
    (async () => {
      const kv = createIndexedDbKv({ name });
      try {
        const stream = createEventStore({ kv }).stream({ type: 'Account', id: 'sw' });
        const deposits = Array.from({ length: count }, (_, i) => ({
          type: 'Deposited',
          data: { amount: i + 1 },
        }));
        const { version } = await stream.append(deposits);
        reply({ version });
      } catch (error) {
        reply({ error: String(error) });
      } finally {
        await kv.close();
      }
    })(),
  );
});
