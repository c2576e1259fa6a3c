import { createIndexedDbKv } from '@eventkv/indexeddb';
import { afterAll, beforeAll, describe } from 'vitest';
import {
  type LocalWorker,
  mintLocalToken,
  startLocalWorker,
} from '../../../apps/worker/scripts/local-dev.mjs';
import { createHttpSyncRemote } from '../src/index.js';
import { runSyncModel } from './model/run.js';

/**
 * The model-based sync suite against the real edge: the Worker and its Durable Objects in
 * local workerd, reached over HTTP by `createHttpSyncRemote`, with replicas on IndexedDB
 * (fake-indexeddb). Under both routings: `stream` (the Worker's default: pushes append in
 * one object per stream, pulls read the database's feed) and `database`. Fewer runs than
 * in process: every step is a request. SYNC_MODEL_WORKERD_RUNS changes the number of runs.
 */

/** A secret for this Worker alone, on loopback. */
const SECRET = 'sync-model-secret-local-only-0123456789abcdef';
const env = process.env;

for (const routing of ['stream', 'database'] as const) {
  describe(`ROUTING=${routing}`, () => {
    let worker: LocalWorker | undefined;

    beforeAll(async () => {
      worker = await startLocalWorker({
        vars: { AUTH_SECRET: SECRET, ROUTING: routing, RATE_LIMIT_PER_MINUTE: '0' },
        logLevel: 'error',
      });
    }, 120_000);

    afterAll(async () => {
      await worker?.dispose();
    });

    runSyncModel({
      name: `the Worker in workerd over HTTP (ROUTING=${routing}), replicas on IndexedDB`,
      createEdgeRemote: ({ database, user }) =>
        createHttpSyncRemote((worker as LocalWorker).url, {
          database,
          getToken: () => mintLocalToken(database, { subject: user, secret: SECRET }),
        }),
      openKv: (name) => createIndexedDbKv({ name }),
      removeKv: (name) =>
        new Promise((resolve) => {
          const request = indexedDB.deleteDatabase(name);
          request.onsuccess = request.onerror = request.onblocked = () => resolve();
        }),
      numRuns: env.SYNC_MODEL_WORKERD_RUNS ? Number(env.SYNC_MODEL_WORKERD_RUNS) : 20,
      maxSteps: 40,
      shrink: false,
      timeoutMs: 300_000,
    });
  });
}
