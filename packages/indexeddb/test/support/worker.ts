/// <reference lib="webworker" />
import { createEventStore } from '@eventkv/core';
import { createIndexedDbKv } from '../../src/index.js';

// A dedicated worker appending to a database a page also uses: no DOM in here.
self.onmessage = async (event: MessageEvent<{ name: string; count: number }>) => {
  const { name, count } = event.data;
  const kv = createIndexedDbKv({ name });
  try {
    const stream = createEventStore({ kv }).stream({ type: 'Account', id: 'w' });
    const deposits = Array.from({ length: count }, (_, i) => ({
      type: 'Deposited',
      data: { amount: i + 1 },
    }));
    const { version } = await stream.append(deposits);
    self.postMessage({ version });
  } catch (error) {
    self.postMessage({ error: String(error) });
  } finally {
    await kv.close();
  }
};
