/**
 * The push benchmark, over HTTP to apps/worker in local workerd (`ROUTING=database`):
 *
 * - eventkv: a synced store on a memory KV in Node holds `streams x perStream` pending
 *   events (appended offline, untimed), then one `sync.syncNow()` over
 *   `createHttpSyncRemote`; the time until its first pull request is also kept (the push
 *   part: syncNow then pulls the events it pushed back from the edge's log);
 * - the floor: the same events (with message ids, as the engine sends them) as plain
 *   appends, one `POST /v1/{db}/streams/{type}/{id}/events` per stream with all its events
 *   and the expected version, one after the other as the engine pushes.
 *
 * Each round uses two new databases (one Durable Object each), woken by an untimed request
 * first, so both start from an empty store in a live object.
 */
import { createMemoryKv } from '@eventkv/core';
import { createHttpSyncRemote, createSyncedStore, type SyncRemote } from '@eventkv/sync';
import { mintLocalToken } from '../../../apps/worker/scripts/local-dev.mjs';
import { type Deposit, makeDeposits } from '../../src/subject.js';
import type { Timings } from './stats.js';

export interface PushSizes {
  readonly streams: number;
  readonly perStream: number;
  /** Events per local append (offline commands), all pending at the sync. */
  readonly appendSize: number;
}

export interface PushResult {
  readonly eventkv: Timings;
  /** The part of each syncNow before its first pull. */
  readonly eventkvPush: Timings;
  readonly floor: Timings;
  /** Push requests and pull requests one syncNow made (the last round's). */
  readonly requests: { readonly push: number; readonly pull: number };
}

const TYPE = 'Account';

/** Times one syncNow of a replica holding the pending events; returns [total, push part]. */
const syncOnce = async (
  url: URL,
  secret: string,
  database: string,
  sizes: PushSizes,
  requests: { push: number; pull: number },
): Promise<[number, number]> => {
  const token = await mintLocalToken(database, { secret, subject: 'bench' });
  // Untimed: a pull wakes the database's object and makes the edge's identity.
  const wake = await createHttpSyncRemote(url, { token }).pull({ protocol: 1, limit: 1 });
  if (!('events' in wake) || wake.events.length !== 0) throw new Error(`${database} not empty`);
  const http = createHttpSyncRemote(url, { token });
  let firstPull: number | undefined;
  requests.push = 0;
  requests.pull = 0;
  const remote: SyncRemote = {
    database: http.database,
    push: (request) => {
      requests.push++;
      return http.push(request);
    },
    pull: (request) => {
      requests.pull++;
      firstPull ??= performance.now();
      return http.pull(request);
    },
  };
  const store = createSyncedStore<Deposit>({ kv: createMemoryKv(), remote });
  // Untimed: the offline appends.
  for (let s = 0; s < sizes.streams; s++) {
    const stream = store.stream({ type: TYPE, id: `acc-${s}` });
    for (let v = 0; v < sizes.perStream; v += sizes.appendSize) {
      const count = Math.min(sizes.appendSize, sizes.perStream - v);
      await stream.append(makeDeposits(count, s * sizes.perStream + v), { expectedVersion: v });
    }
  }
  const total = sizes.streams * sizes.perStream;
  const before = await store.sync.status();
  if (before.pending !== total) throw new Error(`${before.pending} pending, expected ${total}`);
  const t0 = performance.now();
  const { pushed, pulled } = await store.sync.syncNow();
  const ms = performance.now() - t0;
  // Checked after the clock stopped: every event confirmed, nothing conflicted.
  const after = await store.sync.status();
  if (pushed !== total || after.pending !== 0 || after.conflicts !== 0) {
    throw new Error(
      `sync: pushed ${pushed}, ${after.pending} pending, ${after.conflicts} conflicts (expected ${total} pushed)`,
    );
  }
  if (pulled !== 0) throw new Error(`sync: pulled ${pulled} events of others (expected none)`);
  return [ms, (firstPull ?? performance.now()) - t0];
};

/** Times the plain appends of the same events, one request per stream, in sequence. */
const appendOnce = async (
  url: URL,
  secret: string,
  database: string,
  sizes: PushSizes,
): Promise<number> => {
  const authorization = `Bearer ${await mintLocalToken(database, { secret, subject: 'bench' })}`;
  const streamUrl = (s: number) => new URL(`/v1/${database}/streams/${TYPE}/acc-${s}/events`, url);
  // Untimed: a read wakes the database's object.
  const wake = await fetch(new URL(`/v1/${database}/streams/${TYPE}/acc-0/version`, url), {
    headers: { authorization },
  });
  if (wake.status !== 200) throw new Error(`floor wake-up: HTTP ${wake.status}`);
  await wake.arrayBuffer();
  // Untimed: the bodies, with a message id per event as the engine's carry.
  const bodies = Array.from({ length: sizes.streams }, (_, s) =>
    JSON.stringify({
      events: makeDeposits(sizes.perStream, s * sizes.perStream).map((event) => ({
        ...event,
        metadata: { ...event.metadata, messageId: crypto.randomUUID() },
      })),
      expectedVersion: 'no-stream',
    }),
  );
  const t0 = performance.now();
  for (let s = 0; s < sizes.streams; s++) {
    const response = await fetch(streamUrl(s), {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: bodies[s] as string,
    });
    const body = (await response.json()) as { version?: number };
    if (response.status !== 201 || body.version !== sizes.perStream) {
      throw new Error(
        `floor append ${s}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`,
      );
    }
  }
  return performance.now() - t0;
};

/**
 * One warm-up round (a tenth of the events per stream), then `reps` rounds, eventkv and the
 * floor taking turns at going first.
 */
export const runPushBench = async (
  worker: { url: URL; secret: string },
  sizes: PushSizes,
  reps: number,
  log: (text: string) => void,
): Promise<PushResult> => {
  const total = sizes.streams * sizes.perStream;
  const eventkv: number[] = [];
  const eventkvPush: number[] = [];
  const floor: number[] = [];
  const requests = { push: 0, pull: 0 };
  const stamp = Date.now().toString(36);
  for (let round = 0; round <= reps; round++) {
    const name = (kind: string) => `bench-${kind}-${stamp}-${round}`;
    const roundSizes =
      round === 0 ? { ...sizes, perStream: Math.max(1, Math.floor(sizes.perStream / 10)) } : sizes;
    const both = [
      async () => {
        const [ms, pushMs] = await syncOnce(
          worker.url,
          worker.secret,
          name('sync'),
          roundSizes,
          requests,
        );
        if (round === 0) return;
        eventkv.push(ms);
        eventkvPush.push(pushMs);
      },
      async () => {
        const ms = await appendOnce(worker.url, worker.secret, name('floor'), roundSizes);
        if (round > 0) floor.push(ms);
      },
    ];
    if (round % 2 === 1) both.reverse();
    for (const run of both) await run();
    log(
      round === 0
        ? 'push: warm-up round done'
        : `push round ${round}/${reps}: eventkv ${eventkv.at(-1)!.toFixed(0)} ms (push part ${eventkvPush.at(-1)!.toFixed(0)} ms), floor ${floor.at(-1)!.toFixed(0)} ms`,
    );
  }
  return {
    eventkv: { ms: eventkv, units: total },
    eventkvPush: { ms: eventkvPush, units: total },
    floor: { ms: floor, units: total },
    requests,
  };
};
