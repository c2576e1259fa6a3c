import { createMemoryKv, type StreamId } from '@eventkv/core';
import { createReplica } from '@eventkv/core/replica';
import { seededRandom } from '@eventkv/core/testing';
import { createIndexedDbKv } from '@eventkv/indexeddb';
import { createEdgeRemote, createSyncEdge, type SyncRemote } from '../src/index.js';
import { runSyncModel } from './model/run.js';

/**
 * The model-based sync suite against the edge as it runs under the Worker's default
 * routing, in process: the streams in a store of their own (a Durable Object per stream,
 * keeping no log), the log and the edge's records in the database's feed, and deliveries
 * from the streams to the feed that come late, in part, twice, or not at all: before each
 * call a replica makes, a delivery may bring a random stream of the database up to a random
 * version of it. SYNC_MODEL_FEED_RUNS changes the number of runs.
 */

const streams = createReplica({ kv: createMemoryKv(), globalLog: false, indexes: false });
const feed = createReplica({ kv: createMemoryKv() });
const edge = createSyncEdge({ replica: feed, streams: streams.store });
const random = seededRandom(16);

/** A stream object's delivery, at a moment of its own: a prefix of one stream, maybe none. */
const deliverSome = async (database: string): Promise<void> => {
  if (random() < 0.5) return;
  const refs: StreamId[] = await streams.streams(database);
  const ref = refs[Math.floor(random() * refs.length)];
  if (ref === undefined) return;
  const version = await streams.store.stream(ref).version();
  const upTo = Math.floor(random() * (version + 1));
  if (upTo === 0) return;
  await feed.replicate(ref, await streams.store.stream(ref).read({ to: upTo }));
};

const env = process.env;

runSyncModel({
  name: 'in-process edge over per-stream storage and a feed with late deliveries',
  createEdgeRemote: (principal): SyncRemote => {
    const remote = createEdgeRemote(edge, principal);
    const wait = remote.wait;
    return {
      database: remote.database,
      push: async (request) => {
        await deliverSome(principal.database);
        return remote.push(request);
      },
      pull: async (request) => {
        await deliverSome(principal.database);
        return remote.pull(request);
      },
      ...(wait ? { wait } : {}),
    };
  },
  openKv: (name) => createIndexedDbKv({ name }),
  removeKv: (name) =>
    new Promise((resolve) => {
      const request = indexedDB.deleteDatabase(name);
      request.onsuccess = request.onerror = request.onblocked = () => resolve();
    }),
  numRuns: env.SYNC_MODEL_FEED_RUNS ? Number(env.SYNC_MODEL_FEED_RUNS) : 40,
});
