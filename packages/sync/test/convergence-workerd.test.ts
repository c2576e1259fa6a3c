import type { RecordedEvent } from '@eventkv/core';
import { createIndexedDbKv } from '@eventkv/indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LocalWorker,
  mintLocalToken,
  startLocalWorker,
} from '../../../apps/worker/scripts/local-dev.mjs';
import { createHttpSyncRemote, MAX_PUSH_ENTRIES, SYNC_PROTOCOL } from '../src/index.js';
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

    // The largest push there is (one entry per stream, each stream its own object under
    // 'stream' routing), then pulls right after it: every request is answered, the pulls
    // bring every event once, each stream in order.
    it('a push of the most streams one push may carry, then pulls, answered in full', async () => {
      const database = `burst-${routing}-${crypto.randomUUID()}`;
      const remote = createHttpSyncRemote((worker as LocalWorker).url, {
        database,
        getToken: () => mintLocalToken(database, { subject: 'burst', secret: SECRET }),
      });
      const entries = Array.from({ length: MAX_PUSH_ENTRIES }, (_, s) => ({
        stream: { type: 'Account', id: `a${s}` },
        expectedVersion: 0,
        events: Array.from({ length: 10 }, (_, n) => ({
          type: 'Deposited',
          data: { n },
          metadata: { messageId: crypto.randomUUID() },
        })),
      }));
      const pushed = await remote.push({
        protocol: SYNC_PROTOCOL,
        clientId: 'burst',
        epoch: 1,
        seq: 1,
        entries,
      });
      if (pushed.outcome !== 'applied') throw new Error(`push ${pushed.outcome}`);
      expect(pushed.results.map((r) => r.status)).toEqual(entries.map(() => 'accepted'));
      const events: RecordedEvent[] = [];
      let cursor: Parameters<typeof remote.pull>[0]['cursor'];
      for (;;) {
        const page = await remote.pull({
          protocol: SYNC_PROTOCOL,
          limit: 300,
          ...(cursor === undefined ? {} : { cursor }),
        });
        if (!('events' in page)) throw new Error(`unexpected reset: ${page.reset}`);
        events.push(...page.events);
        cursor = page.cursor;
        if (!page.more) break;
      }
      expect(events.map((e) => e.position)).toEqual(events.map((_, i) => i + 1));
      const versions = new Map<string, number[]>();
      for (const e of events) {
        const id = e.metadata.aggregateId;
        versions.set(id, [...(versions.get(id) ?? []), e.version]);
      }
      expect(versions.size).toBe(MAX_PUSH_ENTRIES);
      for (const list of versions.values()) expect(list).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }, 120_000);

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
