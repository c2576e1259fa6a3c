import { createEventStore } from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import { eventually, useDatabases } from './support/databases.js';

describe('a dedicated worker and a page on one database (Chromium)', () => {
  const database = useDatabases({ label: 'Chromium', factory: () => indexedDB, deleteAfter: true });

  it('sees what the worker appended, and hears about it on the change channel', async () => {
    const db = database('worker');
    const kv = db.connect();
    const heard: string[] = [];
    kv.watch((keys) => heard.push(...keys));
    const worker = new Worker(new URL('./support/worker.ts', import.meta.url), { type: 'module' });
    try {
      const reply = await new Promise<{ version?: number; error?: string }>((resolve) => {
        worker.onmessage = (event) => resolve(event.data);
        worker.postMessage({ name: db.name, count: 3 });
      });
      expect(reply).toEqual({ version: 3 });
      const stream = createEventStore({ kv }).stream({ type: 'Account', id: 'w' });
      expect((await stream.read()).map((e) => e.data)).toEqual([
        { amount: 1 },
        { amount: 2 },
        { amount: 3 },
      ]);
      await eventually(() => heard.some((key) => key.includes('/h/Account/w')));
    } finally {
      worker.terminate();
    }
  });
});
