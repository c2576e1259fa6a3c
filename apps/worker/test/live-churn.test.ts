import { createHttpEventStore } from '@eventkv/client';
import type { RecordedEvent } from '@eventkv/core';
import { seededRandom } from '@eventkv/core/testing';
import { describe, expect, it } from 'vitest';
import { freshDatabase, ORIGIN, send, sendDatabaseRouted, tokenFor } from './helpers';
import { type SocketLog, socketsVia, type WorkerSocket } from './push-socket';

// `@eventkv/client`'s live subscriptions while other clients append to many streams at
// once and the subscriber's sockets keep dropping (in the middle of a batch, between
// batches, right after a reconnect): every event arrives once, in order, and the
// subscriber ends holding exactly what the store holds. Under 'stream' routing the log is
// pushed from the database's feed, which the stream objects deliver to concurrently.

type Via = (request: Request) => Promise<Response>;
const ROUTINGS = [
  ['stream', send],
  ['database', sendDatabaseRouted],
] as const;

const clientOf = async (db: string, via: Via, buffer?: number) => {
  const log: SocketLog = { urls: [], closes: [], open: [] };
  const store = createHttpEventStore(ORIGIN, {
    token: await tokenFor(db),
    fetch: via,
    WebSocket: socketsVia(via, log),
    live: {
      backoff: { baseDelayMs: 5, maxDelayMs: 20 },
      ...(buffer === undefined ? {} : { buffer }),
    },
  });
  return { store, log };
};

const deposit = (n: number) => ({ type: 'Deposited', data: { n } });

/** Collects a subscription's events; `until(n)` resolves once it holds n. */
const collector = () => {
  const events: RecordedEvent[] = [];
  let waiter: { n: number; resolve: () => void } | undefined;
  return {
    events,
    listener: (batch: RecordedEvent[]) => {
      events.push(...batch);
      if (waiter !== undefined && events.length >= waiter.n) waiter.resolve();
    },
    until: (n: number) =>
      events.length >= n
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiter = { n, resolve };
          }),
  };
};

/** Drops the subscriber's open sockets now and then while `work` runs. */
const churn = async (log: SocketLog, random: () => number, work: Promise<unknown>) => {
  let done = false;
  const finished = work.finally(() => {
    done = true;
  });
  while (!done) {
    await new Promise((resolve) => setTimeout(resolve, 1 + Math.floor(random() * 15)));
    const open = log.open.at(-1) as WorkerSocket | undefined;
    if (open !== undefined && open.readyState === 1) open.kill();
  }
  await finished;
};

describe.each(ROUTINGS)('live subscriptions under churn (%s routing)', (_routing, via) => {
  it('subscribeLog over dropping sockets while ten writers append to their streams at once: each event once, in position order, the whole log', async () => {
    const db = freshDatabase();
    const random = seededRandom(4242);
    const { store: subscriber, log } = await clientOf(db, via, 3);
    const writers = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => ({
        store: (await clientOf(db, via)).store,
        id: `w${i}/ü%`,
      })),
    );
    const got = collector();
    const stop = subscriber.subscribeLog(got.listener, { after: 0 });
    let n = 0;
    const rounds = 4;
    const work = (async () => {
      for (let round = 0; round < rounds; round++) {
        await Promise.all(
          writers.map(({ store, id }) =>
            store
              .stream({ type: 'Account', id })
              .append(Array.from({ length: 1 + (round % 2) }, () => deposit(++n))),
          ),
        );
      }
    })();
    await churn(log, random, work);
    const total = writers.length * rounds + writers.length * Math.floor(rounds / 2);
    // Every writer's appends are in the log once this store reads it (its own are not:
    // the writers' are other stores', so wait for the subscriber to see them all).
    await got.until(total);
    stop();
    expect(got.events.map((e) => e.position)).toEqual(got.events.map((_, i) => i + 1));
    const whole = await subscriber.readLog({ limit: 1000 });
    expect(got.events).toEqual(whole.events);
    expect(new Set(got.events.map((e) => (e.data as { n: number }).n)).size).toBe(total);
    expect(log.open.length).toBeGreaterThan(1); // the sockets did drop
  }, 60_000);

  it('stream.subscribe over dropping sockets while another client appends: each version once, the whole stream', async () => {
    const db = freshDatabase();
    const random = seededRandom(99);
    const { store: subscriber, log } = await clientOf(db, via, 2);
    const { store: writer } = await clientOf(db, via);
    const ref = { type: 'Ledger/EU', id: '100%' };
    await writer.stream(ref).append([deposit(1), deposit(2)]);
    const got = collector();
    const stop = subscriber.stream(ref).subscribe(got.listener, { from: 2 });
    const work = (async () => {
      for (let n = 3; n <= 30; n += 3) {
        await writer.stream(ref).append([deposit(n), deposit(n + 1), deposit(n + 2)]);
      }
    })();
    await churn(log, random, work);
    await got.until(31);
    stop();
    expect(got.events.map((e) => e.version)).toEqual(Array.from({ length: 31 }, (_, i) => i + 2));
    expect(got.events).toEqual(await subscriber.stream(ref).read({ from: 2 }));
    expect(log.open.length).toBeGreaterThan(1);
  }, 60_000);
});
