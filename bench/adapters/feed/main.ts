/**
 * `pnpm bench:feed`: the database feed at scale. apps/worker on local workerd (default
 * `'stream'` routing: one Durable Object per stream, each delivering its events to the
 * database's feed object), appends from concurrent clients spread over 1, 10 and 100
 * streams: appends/s, the feed's lag behind each append's answer (p50, p99), its batching
 * (events per delivery), and whether it falls behind (backlog when the load stops, time to
 * drain). In the same run: the same appends with no feed (stream objects that deliver
 * nothing) and under `'database'` routing (one object writes everything, log included), and
 * the feed object alone, taking deliveries as fast as it can.
 */
import { mintLocalToken } from '../../../apps/worker/scripts/local-dev.mjs';
import { formatRate } from '../../src/format.js';
import { median } from '../../src/measure.js';
import { makeDeposits } from '../../src/subject.js';
import { httpClient } from '../http/client.js';
import { finishRun, httpRunSettings, percentile, spread, wrong, x } from '../http/common.js';
import { header, machine, parseCli, positiveInt } from '../shared/cli.js';
import { benchWorker, defaultStorageRoot, startWorkerd } from '../shared/workerd.js';
import { table } from '../sync/stats.js';
import type { Delivery } from './delivery.js';

const cli = parseCli({ reps: 5, warmup: 1, minMs: 2000 }, [
  'concurrency',
  'streams',
  'batches',
  'calls',
  'storage',
]);
const {
  reps: REPS,
  warmup: WARMUP,
  minMs: MIN_MS,
  concurrency: CONCURRENCY,
} = httpRunSettings(cli);
const list = (name: string, value: string): number[] =>
  value.split(',').map((v) => positiveInt(name, v));
/** Streams the appends spread over, one case each. */
const CASES = list('streams', cli.extra.streams ?? '1,10,100');
/**
 * Events per delivery in the feed-alone phase, one case each: stream objects send 1 to 100;
 * 0 is the call alone (an empty delivery, answered after one read of the stream's head).
 */
const BATCHES = (cli.extra.batches ?? '0,1,10,100').split(',').map((v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error('--batches: integers, 0 or more');
  return n;
});
/** Deliveries the Worker sends the feed per request in the feed-alone phase. */
const CALLS = positiveInt('calls', cli.extra.calls ?? '20');
const ONLY = cli.plain.only;
const STORAGE = cli.extra.storage ?? defaultStorageRoot();
/** How long the feed may take to hold every acknowledged append after the load stops. */
const DRAIN_TIMEOUT_MS = 120_000;
/** Between two reads of what the feed applied while it drains (only then: not under load). */
const DRAIN_POLL_MS = 25;

/** A local-only secret: the Workers are started with it and nothing else can reach them. */
const SECRET = 'bench-secret-local-only-0123456789abcdef';
const DATABASE = 'bench';
/** The feed-alone phase's database: its feed is another object than the append phase's. */
const FLOOD_DATABASE = 'flood';
const log = cli.settings.log;

const ROUTINGS = [
  { worker: 'feed', label: "'stream' routing + feed", vars: { ROUTING: 'stream' } },
  {
    worker: 'nofeed',
    label: "'stream' routing, no feed",
    vars: { ROUTING: 'stream', BENCH_FEED: 'off' },
  },
  { worker: 'database', label: "'database' routing", vars: { ROUTING: 'database' } },
] as const;

const started = new Date();
const load = machine().load;
const workerd = await startWorkerd(
  ROUTINGS.map((r) => ({
    name: r.worker,
    eventkv: {
      entry: benchWorker('feed/worker.ts'),
      vars: { AUTH_SECRET: SECRET, RATE_LIMIT_PER_MINUTE: '0', ...r.vars },
    },
  })),
  { storageRoot: STORAGE },
);
const client = httpClient(CONCURRENCY);
/** The longest the bench waits for an answer before it gives up on the run. */
const ANSWER_TIMEOUT_MS = 60_000;
/** `client.send`, failing the run when workerd does not answer within `ANSWER_TIMEOUT_MS`. */
const send: typeof client.send = (url, method, headers, body) => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    client.send(url, method, headers, body),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`no answer to ${method} ${url.pathname} in ${ANSWER_TIMEOUT_MS} ms`)),
        ANSWER_TIMEOUT_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
};
const authorization = `Bearer ${await mintLocalToken(DATABASE, { secret: SECRET, subject: 'bench' })}`;
const postHeaders = { authorization, 'content-type': 'application/json' };

/** Wall-clock now in ms, sub-millisecond: comparable with workerd's `Date.now()`. */
const now = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------
// Appends over S streams.

/** Stream `i` of the S-stream case. */
const streamId = (streams: number, i: number) => `s${streams}-${i}`;

/**
 * Client `w`'s streams: with at least as many streams as clients, its own (`w, w + N, ...`),
 * in turn; with fewer, stream `w mod S`, which it shares with other clients. Appends carry
 * no expected version, so clients sharing a stream queue in its object instead of failing.
 */
const streamsOf = (streams: number, w: number): number[] =>
  streams >= CONCURRENCY
    ? Array.from({ length: Math.ceil((streams - w) / CONCURRENCY) }, (_, i) => w + i * CONCURRENCY)
    : [w % streams];

interface AppendSample {
  readonly appends: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** workerd's CPU per append (µs), over the load and the feed's drain after it. */
  readonly workerdUs: number | undefined;
  readonly p50: number;
  readonly p99: number;
  /** The feed's part (the feed subject only). */
  readonly feed?: FeedSample;
}

interface FeedSample {
  /** ms from an append's answer at the client to the feed's applying it; p50 and p99. */
  readonly lagP50: number;
  readonly lagP99: number;
  readonly lagMax: number;
  readonly deliveries: number;
  /** Appended events / deliveries: how many events a `feedDeliver` carried on average. */
  readonly eventsPerDelivery: number;
  /** Appends answered but not in the feed when the last answer came. */
  readonly backlog: number;
  /** ms from the last answer until the feed held every append (0: it already did). */
  readonly drainMs: number;
}

let correlation = 0;
const appendBody = (): string => JSON.stringify({ events: makeDeposits(1, ++correlation) });

const deliveries = async (worker: string, db: string): Promise<Delivery[]> => {
  const answer = await send(new URL(`/bench/deliveries?db=${db}`, workerd.url(worker)), 'GET', {});
  if (answer.status !== 200) wrong('deliveries', answer);
  return JSON.parse(answer.text) as Delivery[];
};

/**
 * Waits until the feed holds every acknowledged append (`acked`: per stream key, its
 * highest version answered), reading what it applied every `DRAIN_POLL_MS`; returns every
 * delivery it applied since the sample began. The first read comes right after the load
 * stops: while it runs, nothing asks the feed anything.
 */
const drain = async (worker: string, acked: ReadonlyMap<string, number>): Promise<Delivery[]> => {
  const all: Delivery[] = [];
  const held = new Map<string, number>();
  const note = (list: readonly Delivery[]) => {
    for (const [stream, , version] of list) {
      held.set(stream, Math.max(held.get(stream) ?? 0, version));
    }
  };
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  const behind = () => [...acked].some(([stream, version]) => (held.get(stream) ?? 0) < version);
  for (let first = true; first || behind(); first = false) {
    if (performance.now() > deadline) {
      throw new Error(`the feed did not hold every append ${DRAIN_TIMEOUT_MS} ms after the load`);
    }
    if (!first) await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    const more = await deliveries(worker, DATABASE);
    note(more);
    all.push(...more);
  }
  return all;
};

/**
 * The feed's lag per append: the first delivery (in the feed's time) holding the append's
 * version, less the time its answer reached the client.
 */
const feedSample = (
  acks: ReadonlyMap<string, readonly (readonly [number, number])[]>,
  applied: readonly Delivery[],
  lastAck: number,
): FeedSample => {
  const byStream = new Map<string, Delivery[]>();
  for (const d of applied) {
    const list = byStream.get(d[0]);
    if (list === undefined) byStream.set(d[0], [d]);
    else list.push(d);
  }
  const lags: number[] = [];
  let backlog = 0;
  let lastApplied = Number.NEGATIVE_INFINITY;
  let deliveryCount = 0;
  let events = 0;
  for (const [stream, list] of acks) {
    const ds = (byStream.get(stream) ?? []).sort((a, b) => a[4] - b[4] || a[2] - b[2]);
    deliveryCount += ds.length;
    const sorted = [...list].sort((a, b) => a[0] - b[0]);
    let d = 0;
    for (const [version, at] of sorted) {
      while (d < ds.length && ds[d]![2] < version) d++;
      const delivery = ds[d];
      if (delivery === undefined) throw new Error(`the feed never applied ${stream} ${version}`);
      const appliedAt = delivery[4];
      lags.push(appliedAt - at);
      if (appliedAt > lastAck) backlog++;
      lastApplied = Math.max(lastApplied, appliedAt);
      events++;
    }
  }
  lags.sort((a, b) => a - b);
  return {
    lagP50: percentile(lags, 50),
    lagP99: percentile(lags, 99),
    lagMax: lags.at(-1) ?? Number.NaN,
    deliveries: deliveryCount,
    eventsPerDelivery: events / deliveryCount,
    backlog,
    drainMs: Math.max(0, lastApplied - lastAck),
  };
};

interface Cell {
  readonly name: string;
  readonly phase: 'append' | 'feed';
  run(): Promise<AppendSample | FloodSample>;
}

const appendCell = (routing: (typeof ROUTINGS)[number], streams: number): Cell => {
  const url = (i: number) =>
    new URL(
      `/v1/${DATABASE}/streams/Account/${streamId(streams, i)}/events`,
      workerd.url(routing.worker),
    );
  const owned = Array.from({ length: CONCURRENCY }, (_, w) => streamsOf(streams, w));
  const withFeed = routing.worker === 'feed';
  return {
    name: `${streams} stream${streams === 1 ? '' : 's'}, ${routing.label}`,
    phase: 'append',
    async run(): Promise<AppendSample> {
      // Forgets what the feed applied before this sample (nothing, once the last one drained).
      if (withFeed) await deliveries(routing.worker, DATABASE);
      const acks = new Map<string, [number, number][]>();
      const latencies: number[] = [];
      let lastAck = 0;
      const cpu0 = workerd.cpuMs();
      const t0 = performance.now();
      await Promise.all(
        owned.map(async (mine) => {
          for (let turn = 0; performance.now() - t0 < MIN_MS; turn++) {
            const i = mine[turn % mine.length]!;
            const start = performance.now();
            const answer = await send(url(i), 'POST', postHeaders, appendBody());
            const at = now();
            latencies.push(performance.now() - start);
            if (answer.status !== 201) wrong(`append ${streamId(streams, i)}`, answer);
            const { version } = JSON.parse(answer.text) as { version?: number };
            if (!(typeof version === 'number' && version >= 1)) wrong('append: version', answer);
            const key = `Account/${streamId(streams, i)}`;
            const list = acks.get(key) ?? [];
            if (list.length === 0) acks.set(key, list);
            list.push([version as number, at]);
            lastAck = Math.max(lastAck, at);
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      let feed: FeedSample | undefined;
      if (withFeed) {
        const highest = new Map(
          [...acks].map(([key, list]) => [key, Math.max(...list.map(([v]) => v))] as const),
        );
        feed = feedSample(acks, await drain(routing.worker, highest), lastAck);
      }
      const cpu1 = workerd.cpuMs();
      const n = latencies.length;
      latencies.sort((a, b) => a - b);
      return {
        appends: n,
        seconds,
        perSecond: n / seconds,
        workerdUs:
          cpu0 === undefined || cpu1 === undefined ? undefined : ((cpu1 - cpu0) * 1000) / n,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        ...(feed === undefined ? {} : { feed }),
      };
    },
  };
};

// ---------------------------------------------------------------------------------------------
// The feed alone.

interface FloodSample {
  /** Events per delivery. */
  readonly batch: number;
  readonly deliveries: number;
  readonly seconds: number;
  readonly deliveriesPerSecond: number;
  readonly eventsPerSecond: number;
  /** workerd's CPU per delivery (µs): the feed's and the Worker's calling it. */
  readonly workerdUs: number | undefined;
}

let template = '';

const floodCell = (batch: number): Cell => ({
  name:
    batch === 0
      ? 'feed alone, empty deliveries (the call only)'
      : `feed alone, ${batch} event${batch === 1 ? '' : 's'} per delivery`,
  phase: 'feed',
  async run(): Promise<FloodSample> {
    const url = new URL(
      `/bench/flood?db=${FLOOD_DATABASE}&batch=${batch}&calls=${CALLS}`,
      workerd.url('feed'),
    );
    let count = 0;
    const cpu0 = workerd.cpuMs();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() - t0 < MIN_MS) {
          const answer = await send(url, 'POST', { 'content-type': 'application/json' }, template);
          if (answer.status !== 200) wrong(`flood ${batch}`, answer);
          count += (JSON.parse(answer.text) as { deliveries: number }).deliveries;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = workerd.cpuMs();
    // Forgets what this feed noted (its deliveries are not timed here).
    await deliveries('feed', FLOOD_DATABASE);
    return {
      batch,
      deliveries: count,
      seconds,
      deliveriesPerSecond: count / seconds,
      eventsPerSecond: (count * batch) / seconds,
      workerdUs:
        cpu0 === undefined || cpu1 === undefined ? undefined : ((cpu1 - cpu0) * 1000) / count,
    };
  },
});

const cells: Cell[] = [
  ...CASES.flatMap((streams) => ROUTINGS.map((r) => appendCell(r, streams))),
  ...BATCHES.map(floodCell),
].filter((c) => ONLY === undefined || ONLY.some((o) => c.phase.startsWith(o)));
if (cells.length === 0) throw new Error('--only: neither append nor feed');

// ---------------------------------------------------------------------------------------------
// Running and reporting.

const ms = (value: number): string =>
  Math.abs(value) >= 100
    ? value.toFixed(0)
    : Math.abs(value) >= 10
      ? value.toFixed(1)
      : value.toFixed(2);
const cpuOf = (samples: readonly { workerdUs: number | undefined }[]): string => {
  const known = samples.flatMap((s) => (s.workerdUs === undefined ? [] : [s.workerdUs]));
  return known.length === 0 ? 'n/a' : median(known).toFixed(0);
};

try {
  // Untimed: one event read back, the template of the feed-alone phase's events (a real
  // recorded event, as a stream object sends them).
  const templateUrl = new URL(
    `/v1/${DATABASE}/streams/Account/template/events`,
    workerd.url('feed'),
  );
  const appended = await send(templateUrl, 'POST', postHeaders, appendBody());
  if (appended.status !== 201) wrong('template append', appended);
  const read = await send(templateUrl, 'GET', { authorization });
  if (read.status !== 200) wrong('template read', read);
  const [event] = (JSON.parse(read.text) as { events: unknown[] }).events;
  template = JSON.stringify(event);

  const samples = cells.map((): (AppendSample | FloodSample)[] => []);
  for (let round = 0; round < WARMUP + REPS; round++) {
    const r0 = performance.now();
    const notes: string[] = [];
    for (let k = 0; k < cells.length; k++) {
      const at = (round + k) % cells.length;
      const sample = await cells[at]!.run();
      if (round >= WARMUP) samples[at]!.push(sample);
      notes[at] =
        `${cells[at]!.name} ${('perSecond' in sample ? sample.perSecond : sample.deliveriesPerSecond).toFixed(0)}/s`;
    }
    log(
      `${round < WARMUP ? 'warm-up' : `round ${round - WARMUP + 1}/${REPS}`} ` +
        `(${((performance.now() - r0) / 1000).toFixed(1)} s): ${notes.join('; ')}`,
    );
  }

  const appendRows = cells.flatMap((c, i) =>
    c.phase === 'append' ? [{ cell: c, samples: samples[i] as AppendSample[] }] : [],
  );
  const floodRows = cells.flatMap((c, i) =>
    c.phase === 'feed' ? [{ cell: c, samples: samples[i] as FloodSample[] }] : [],
  );
  const feedRows = appendRows.filter((r) => r.samples[0]?.feed !== undefined);
  const rowOf = (streams: number, worker: string) => {
    const routing = ROUTINGS.find((r) => r.worker === worker)!;
    return appendRows.find(
      (r) => r.cell.name === `${streams} stream${streams === 1 ? '' : 's'}, ${routing.label}`,
    );
  };
  const ratios = CASES.flatMap((streams) => {
    const mine = rowOf(streams, 'feed');
    return (['nofeed', 'database'] as const).flatMap((floor) => {
      const theirs = rowOf(streams, floor);
      if (mine === undefined || theirs === undefined) return [];
      const rate = (list: readonly AppendSample[]) => median(list.map((s) => s.perSecond));
      return [
        {
          feed: mine.cell.name,
          floor: theirs.cell.name,
          ofMedians: rate(mine.samples) / rate(theirs.samples),
          perRound: mine.samples.map((s, r) => s.perSecond / theirs.samples[r]!.perSecond),
        },
      ];
    });
  });

  console.log(
    header('eventkv feed bench, apps/worker on local workerd (Miniflare),', started, load),
  );
  console.log(
    `${REPS} samples of >= ${MIN_MS} ms per row after ${WARMUP} warm-up round; ` +
      `${CONCURRENCY} concurrent clients (node:http, keep-alive), one append of 1 event at a time each, no expected version; ` +
      `Durable Object storage under ${STORAGE}`,
  );
  console.log('median [lowest, highest sample]; CPU and append latency: medians of the samples');
  if (appendRows.length > 0) {
    console.log();
    console.log(
      table(
        ['appends', 'appends/s', 'workerd CPU µs/append', 'p50 ms', 'p99 ms'],
        appendRows.map(({ cell, samples: list }) => [
          cell.name,
          spread(
            list.map((s) => s.perSecond),
            formatRate,
          ),
          cpuOf(list),
          ms(median(list.map((s) => s.p50))),
          ms(median(list.map((s) => s.p99))),
        ]),
      ),
    );
  }
  if (feedRows.length > 0) {
    console.log();
    console.log(
      'the feed under that load: lag = feed applied (workerd clock) - answer at the client (Node clock), ms; ' +
        'backlog = appends answered but not in the feed when the last answer came',
    );
    console.log();
    console.log(
      table(
        [
          'feed',
          'lag p50 ms',
          'lag p99 ms',
          'lag max',
          'events/delivery',
          'deliveries/s',
          'backlog',
          'drain ms',
        ],
        feedRows.map(({ cell, samples: list }) => {
          const feeds = list.map((s) => s.feed as FeedSample);
          return [
            cell.name.replace(/, 'stream' routing \+ feed$/, ''),
            spread(
              feeds.map((f) => f.lagP50),
              ms,
            ),
            spread(
              feeds.map((f) => f.lagP99),
              ms,
            ),
            ms(Math.max(...feeds.map((f) => f.lagMax))),
            spread(
              feeds.map((f) => f.eventsPerDelivery),
              (v) => v.toFixed(2),
            ),
            formatRate(median(list.map((s) => (s.feed as FeedSample).deliveries / s.seconds))),
            spread(
              feeds.map((f) => f.backlog),
              (v) => v.toFixed(0),
            ),
            spread(
              feeds.map((f) => f.drainMs),
              ms,
            ),
          ];
        }),
      ),
    );
  }
  if (ratios.length > 0) {
    console.log();
    console.log(
      table(
        [
          'appends/s, with the feed / without',
          'of the medians',
          'per round: median [lowest, highest]',
        ],
        ratios.map((r) => [
          `${r.feed.replace(/, 'stream' routing \+ feed$/, '')}: vs ${r.floor.replace(/^\d+ streams?, /, '')}`,
          x(r.ofMedians),
          spread(r.perRound, x),
        ]),
      ),
    );
  }
  if (floodRows.length > 0) {
    console.log();
    console.log(
      `the feed object alone: ${CONCURRENCY} clients, each asking the Worker for ${CALLS} deliveries ` +
        'in a row (each to a new stream), the Worker calling feedDeliver',
    );
    console.log();
    console.log(
      table(
        ['feed alone', 'deliveries/s', 'events/s', 'workerd CPU µs/delivery', 'µs/event'],
        floodRows.map(({ cell, samples: list }) => [
          cell.name.replace(/^feed alone, /, ''),
          spread(
            list.map((s) => s.deliveriesPerSecond),
            formatRate,
          ),
          spread(
            list.map((s) => s.eventsPerSecond),
            formatRate,
          ),
          cpuOf(list),
          list[0]?.batch && cpuOf(list) !== 'n/a'
            ? (Number(cpuOf(list)) / list[0].batch).toFixed(0)
            : '-',
        ]),
      ),
    );
  }
  finishRun(
    cli.json,
    started,
    {
      reps: REPS,
      warmup: WARMUP,
      minMs: MIN_MS,
      concurrency: CONCURRENCY,
      streams: CASES,
      batches: BATCHES,
      calls: CALLS,
      storage: STORAGE,
    },
    {
      cells: cells.map((c, i) => ({ name: c.name, phase: c.phase, samples: samples[i] })),
      ratios,
    },
  );
} finally {
  client.destroy();
  await workerd.dispose();
}
