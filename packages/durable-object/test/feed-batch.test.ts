import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { RecordedEvent, StreamId } from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  databaseObjectName,
  eventStoreObjectRpc,
  unwrapResult,
} from '../src/index.js';
import { type BankEvent, deposit } from './helpers.js';
import type { FlakyFeedObject } from './worker.js';

// The feed applies the deliveries that reach it in the same turn in one commit
// (`src/object/feed-apply.ts`); each caller still gets its own delivery's answer.

const storeOf = (database: string) =>
  createDurableObjectEventStore<BankEvent>(env.FLAKY, { routing: 'stream', database });
const feedOf = (database: string) =>
  env.FLAKY.get(env.FLAKY.idFromName(databaseObjectName(database)));

/** Events of `count` streams (`s0`, `s1`...), `per` each, as their stream objects hold them. */
const recorded = async (database: string, count: number, per: number) => {
  const store = storeOf(database);
  const refs = Array.from(
    { length: count },
    (_, i): StreamId => ({ database, type: 'Account', id: `s${i}` }),
  );
  // The feed is down meanwhile: these tests make the deliveries themselves.
  await runInDurableObject(feedOf(database), (feed: FlakyFeedObject) => {
    feed.down = true;
  });
  const events = new Map<StreamId, RecordedEvent[]>();
  for (const ref of refs) {
    await store.stream(ref).append(Array.from({ length: per }, (_, i) => deposit(i + 1)));
    events.set(ref, await store.stream(ref).read());
  }
  await runInDurableObject(feedOf(database), (feed: FlakyFeedObject) => {
    feed.down = false;
  });
  return { refs, events };
};

describe('the feed applies deliveries in batches', () => {
  it('applies the deliveries of one turn in one transaction, positions in their order, each answered with its own version', async () => {
    const database = `batch-${crypto.randomUUID()}`;
    const { refs, events } = await recorded(database, 5, 2);
    const { answers, transactions } = await runInDurableObject(
      feedOf(database),
      async (feed: FlakyFeedObject, state) => {
        let transactions = 0;
        const storage = state.storage as { transactionSync: <T>(fn: () => T) => T };
        const transactionSync = storage.transactionSync.bind(storage);
        storage.transactionSync = (fn) => {
          transactions += 1;
          return transactionSync(fn);
        };
        // One delivery per stream, all sent before any is answered (as appends spread over
        // stream objects deliver them).
        const answers = await Promise.all(
          refs.map(async (ref) =>
            unwrapResult(await feed.feedDeliver({ ref, events: events.get(ref) ?? [] })),
          ),
        );
        storage.transactionSync = transactionSync;
        return { answers, transactions };
      },
    );
    expect(answers).toEqual(refs.map(() => ({ version: 2 })));
    expect(transactions).toBe(1);
    const log = unwrapResult(
      await eventStoreObjectRpc(feedOf(database)).readLog({ options: { database } }),
    ).events as RecordedEvent[];
    expect(log.map((e) => [e.metadata.aggregateId, e.version, e.position])).toEqual(
      refs.flatMap((ref, i) => [
        [ref.id, 1, 2 * i + 1],
        [ref.id, 2, 2 * i + 2],
      ]),
    );
  });

  it('answers each delivery of a batch as it would alone: a gap with the version held, a duplicate and an overlap with the version, a stream sent twice in order', async () => {
    const database = `batch-${crypto.randomUUID()}`;
    const { refs, events } = await recorded(database, 3, 3);
    const [a, b, c] = refs as [StreamId, StreamId, StreamId];
    const of = (ref: StreamId) => events.get(ref) ?? [];
    const rpc = eventStoreObjectRpc(feedOf(database));
    unwrapResult(await rpc.feedDeliver({ ref: c, events: of(c).slice(0, 2) }));
    const answers = await runInDurableObject(feedOf(database), (feed: FlakyFeedObject) =>
      Promise.all(
        [
          { ref: a, events: of(a).slice(1) }, // a gap: holds nothing of a
          { ref: b, events: of(b).slice(0, 1) },
          { ref: c, events: of(c) }, // overlaps what it holds
          { ref: b, events: of(b).slice(1) }, // b again, continuing the first
          { ref: c, events: of(c).slice(0, 1) }, // a duplicate
        ].map(async (call) => unwrapResult(await feed.feedDeliver(call)).version),
      ),
    );
    expect(answers).toEqual([0, 1, 3, 3, 3]);
    const log = unwrapResult(await rpc.readLog({ options: { database } }))
      .events as RecordedEvent[];
    expect(log.map((e) => [e.metadata.aggregateId, e.version])).toEqual([
      [c.id, 1],
      [c.id, 2],
      [b.id, 1],
      [c.id, 3],
      [b.id, 2],
      [b.id, 3],
    ]);
  });

  it('a read of the feed sees the deliveries it received before the read, applied or not yet', async () => {
    const database = `batch-${crypto.randomUUID()}`;
    const { refs, events } = await recorded(database, 2, 1);
    const seen = await runInDurableObject(feedOf(database), async (feed: FlakyFeedObject) => {
      // Not awaited: the batch is due later in this turn, and the reads come first.
      const delivered = refs.map((ref) => feed.feedDeliver({ ref, events: events.get(ref) ?? [] }));
      const log = unwrapResult(await feed.readLog({ options: { database } })).events.length;
      const query = unwrapResult(
        await feed.query({ index: 'aggregateType', value: 'Account', options: { database } }),
      ).events.length;
      const position = unwrapResult(await feed.waitLog({ database, after: 0, timeoutMs: 0 }));
      await Promise.all(delivered);
      return { log, query, position };
    });
    expect(seen).toEqual({ log: 2, query: 2, position: 2 });
  });
});
