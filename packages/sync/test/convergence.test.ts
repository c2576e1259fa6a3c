import { createMemoryKv } from '@eventkv/core';
import { createReplica } from '@eventkv/core/replica';
import { createIndexedDbKv } from '@eventkv/indexeddb';
import { createEdgeRemote, createSyncEdge } from '../src/index.js';
import { runSyncModel } from './model/run.js';

/**
 * The model-based sync suite against the edge in process (one edge, a database per run)
 * with replicas on IndexedDB (fake-indexeddb). SYNC_MODEL_SEED and SYNC_MODEL_PATH replay
 * a failure; SYNC_MODEL_RUNS changes the number of runs; SYNC_MODEL_REPORT=1 prints the
 * runs and faults even when every run passes.
 */

const edge = createSyncEdge({ replica: createReplica({ kv: createMemoryKv() }) });
const env = process.env;

runSyncModel({
  name: 'in-process edge, replicas on IndexedDB',
  createEdgeRemote: (principal) => createEdgeRemote(edge, principal),
  openKv: (name) => createIndexedDbKv({ name }),
  removeKv: (name) =>
    new Promise((resolve) => {
      const request = indexedDB.deleteDatabase(name);
      request.onsuccess = request.onerror = request.onblocked = () => resolve();
    }),
  numRuns: env.SYNC_MODEL_RUNS ? Number(env.SYNC_MODEL_RUNS) : 250,
  ...(env.SYNC_MODEL_SEED ? { seed: Number(env.SYNC_MODEL_SEED) } : {}),
  ...(env.SYNC_MODEL_PATH ? { path: env.SYNC_MODEL_PATH } : {}),
});
