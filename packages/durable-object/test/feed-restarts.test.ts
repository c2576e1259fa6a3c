import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { RecordedEvent, StreamId } from '@eventkv/core';
import { seededRandom } from '@eventkv/core/testing';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  databaseObjectName,
  eventStoreObjectRpc,
  streamObjectName,
  unwrapResult,
} from '../src/index.js';
import { type BankEvent, deposit } from './helpers.js';
import type { FlakyFeedObject } from './worker.js';

// The faults of feed.test.ts's model check seen from the feed's side: the feed object
// itself restarted while deliveries of many streams are in flight (some applied and not
// yet answered, some queued for the next batch), duplicate deliveries racing the stream's
// own delivery into the same batch, and a read of the feed in the middle. The feed ends
// equal to the union of the streams, each event once, and reads never show a stream with
// a gap or an event twice.

const stub = (name: string) => env.FLAKY.get(env.FLAKY.idFromName(name));
const feedOf = (database: string) => stub(databaseObjectName(database));
const fireAlarm = (ref: StreamId) =>
  runInDurableObject(stub(streamObjectName(ref)), (object: FlakyFeedObject) => object.alarm());
const restartFeed = (database: string) =>
  runInDurableObject(feedOf(database), (_feed, state) => state.abort('feed restarted')).catch(
    () => undefined, // the call that aborts fails
  );
const setDown = (database: string, down: boolean) =>
  runInDurableObject(feedOf(database), (feed: FlakyFeedObject) => {
    feed.down = down;
  });

/** The feed's whole log, page by page. */
const wholeLog = async (database: string) => {
  const rpc = eventStoreObjectRpc(feedOf(database));
  const events: RecordedEvent[] = [];
  for (let after = 0; ; ) {
    const page = unwrapResult(await rpc.readLog({ options: { database, after, limit: 1000 } }));
    events.push(...(page.events as RecordedEvent[]));
    if (page.position === after) return events;
    after = page.position;
  }
};

/** No stream of the log has a gap or a repeat: each is its stream's prefix, in order. */
const expectPrefixes = (log: readonly RecordedEvent[], label: string) => {
  expect(
    log.map((e) => e.position),
    label,
  ).toEqual(log.map((_, i) => i + 1));
  const versions = new Map<string, number>();
  for (const e of log) {
    const last = versions.get(e.metadata.aggregateId) ?? 0;
    expect(e.version, `${label}: ${e.metadata.aggregateId}`).toBe(last + 1);
    versions.set(e.metadata.aggregateId, e.version);
  }
};

describe('the feed restarted while deliveries are in flight', () => {
  it('over random runs of bursts over many streams, feed restarts in the middle, racing duplicates and reads, the feed ends equal to the union of the streams', async () => {
    for (let run = 0; run < 4; run++) {
      const random = seededRandom(77 + run);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
      const database = `feed-restart-${run}-${crypto.randomUUID()}`;
      const store = createDurableObjectEventStore<BankEvent>(env.FLAKY, {
        routing: 'stream',
        database,
      });
      const refs = Array.from(
        { length: 6 },
        (_, i): StreamId => ({
          database,
          type: 'Account',
          id: `r${i}/%`,
        }),
      );
      const rpc = eventStoreObjectRpc(feedOf(database));
      let amount = 0;
      const burst = () =>
        Promise.all(
          refs
            .filter(() => random() < 0.7)
            .map((ref) =>
              store
                .stream(ref)
                .append(
                  Array.from({ length: 1 + Math.floor(random() * 3) }, () => deposit(++amount)),
                ),
            ),
        );
      for (let step = 0; step < 10; step++) {
        const action = pick(['burst', 'restart', 'restart', 'duplicates', 'read', 'outage']);
        switch (action) {
          case 'burst':
            await burst();
            break;
          case 'restart':
            // Deliveries start with the appends; the feed goes down in their middle.
            await Promise.all([burst(), restartFeed(database)]);
            break;
          case 'duplicates': {
            // Each stream delivered again by hand, from a random version, in the same
            // turn as its own delivery of a new append.
            const copies = await Promise.all(refs.map((ref) => store.stream(ref).read()));
            await Promise.all([
              burst(),
              ...refs.map((ref, i) => {
                const events = copies[i] as RecordedEvent[];
                const from = Math.floor(random() * (events.length + 1));
                return rpc.feedDeliver({ ref, events: events.slice(from) }).catch(() => undefined);
              }),
            ]);
            break;
          }
          case 'read':
            // What the feed shows in the middle: prefixes of the streams, never a gap.
            expectPrefixes(await wholeLog(database), `run ${run} step ${step}`);
            break;
          case 'outage':
            await setDown(database, true);
            await burst();
            await restartFeed(database); // comes back up (a new instance is not down)
            break;
        }
      }
      // The alarms deliver what the restarts and the outage left behind.
      for (const ref of refs) await fireAlarm(ref);
      const log = await wholeLog(database);
      expectPrefixes(log, `run ${run}`);
      let total = 0;
      for (const ref of refs) {
        const stream = await store.stream(ref).read();
        total += stream.length;
        expect(
          log
            .filter((e) => e.metadata.aggregateId === ref.id)
            .map(({ position: _position, ...event }) => event),
          `run ${run}: ${ref.id}`,
        ).toEqual(stream);
      }
      expect(log).toHaveLength(total);
      // And the store reads its own writes from it.
      expect((await store.readLog({ limit: 1000 })).events).toEqual(log.slice(0, 1000));
    }
  }, 180_000);
});
