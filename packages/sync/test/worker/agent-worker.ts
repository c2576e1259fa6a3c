// A dedicated worker that runs a replica and its sync agent, as a service worker or a
// worker of an app would: no window, no document. Its edge is in the worker too; the page
// talks to it through the same IndexedDB database and the agents' channel.
import { createMemoryKv } from '@eventkv/core';
import { createReplica } from '@eventkv/core/replica';
import { createIndexedDbKv } from '@eventkv/indexeddb';
import { createEdgeRemote, createSyncEdge, createSyncedStore, startSync } from '../../src/index.js';

declare const self: {
  onmessage: ((event: { data: { name: string } }) => void) | null;
  postMessage(message: unknown): void;
};

self.onmessage = ({ data: { name } }) => {
  const edge = createSyncEdge({ replica: createReplica({ kv: createMemoryKv() }) });
  const kv = createIndexedDbKv({ name });
  const remote = createEdgeRemote(edge, { database: 'acme', user: 'ann' });
  const store = createSyncedStore({ kv, remote });
  const agent = startSync(store, { name });
  agent.on((event) => {
    if (event.type === 'synced') self.postMessage({ synced: event.pushed });
  });
  const report = () =>
    self.postMessage({ role: agent.role, hasDocument: 'document' in globalThis });
  report();
  setInterval(report, 50);
};
