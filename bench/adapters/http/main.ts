/**
 * `pnpm bench:http`: requests per second of the Worker's HTTP append and read (apps/worker on
 * local workerd, driven through Miniflare's API), from concurrent clients on loopback,
 * against floors in the same workerd and the same run: an empty Worker, and a Worker whose
 * Durable Object does one `get` + `put` (append) or one `list` (read).
 */
import { mintLocalToken } from '../../../apps/worker/scripts/local-dev.mjs';
import { formatRate } from '../../src/format.js';
import { median } from '../../src/measure.js';
import { makeDeposits } from '../../src/subject.js';
import { header, machine, parseCli, positiveInt } from '../shared/cli.js';
import { table } from '../sync/stats.js';
import { httpClient } from './client.js';
import { finishRun, httpRunSettings, percentile, spread, wrong, x } from './common.js';
import { defaultStorageRoot, startRuntime } from './workerd.js';

const cli = parseCli({ reps: 7, warmup: 1, minMs: 1500 }, [
  'concurrency',
  'streams',
  'events',
  'storage',
]);
const {
  reps: REPS,
  warmup: WARMUP,
  minMs: MIN_MS,
  concurrency: CONCURRENCY,
} = httpRunSettings(cli);
const STREAMS = positiveInt('streams', cli.extra.streams ?? '100');
/** Events in each stream the read phase reads (whole). */
const EVENTS = positiveInt('events', cli.extra.events ?? '10');
if (STREAMS < CONCURRENCY) throw new Error('--streams must be at least --concurrency');
const ONLY = cli.plain.only;
/** The directory Durable Object storage goes under (default: /dev/shm where it exists). */
const STORAGE = cli.extra.storage ?? defaultStorageRoot();

/** A local-only secret: the Worker is started with it and nothing else can reach it. */
const SECRET = 'bench-secret-local-only-0123456789abcdef';
const DATABASE = 'bench';
const log = cli.settings.log;

const client = httpClient(CONCURRENCY);
const send = client.send;

// ---------------------------------------------------------------------------------------------
// Subjects: each sends the same request shape in its phase and checks every answer.

type Phase = 'append' | 'read';

interface Subject {
  readonly name: string;
  readonly phase: Phase;
  /** One request for stream `stream`; throws on a wrong answer. */
  request(stream: number): Promise<void>;
}

const started = new Date();
const load = machine().load;
const runtime = await startRuntime({ AUTH_SECRET: SECRET, RATE_LIMIT_PER_MINUTE: '0' }, STORAGE);
const authorization = `Bearer ${await mintLocalToken(DATABASE, { secret: SECRET, subject: 'bench' })}`;
const eventsUrl = (kind: Phase, stream: number) =>
  new URL(`/v1/${DATABASE}/streams/Account/${kind}-${stream}/events`, runtime.eventkv);
const floorUrl = (route: string, kind: Phase, stream: number) =>
  new URL(`/${route}/${kind}-${stream}`, runtime.floor);
const EMPTY = new URL('/empty', runtime.floor);
const postHeaders = { authorization, 'content-type': 'application/json' };
const getHeaders = { authorization };

let correlation = 0;
/** The body of an append: one event (a new correlation id each time), the expected version. */
const appendBody = (expected: number, count = 1): string => {
  correlation += count;
  return JSON.stringify({
    events: makeDeposits(count, correlation),
    expectedVersion: expected === 0 ? 'no-stream' : expected,
  });
};

/** Keeps each stream's version and checks the answer carries the next one. */
const appender = (name: string, url: (stream: number) => URL, created: number): Subject => {
  const versions = new Array<number>(STREAMS).fill(0);
  return {
    name,
    phase: 'append',
    async request(stream) {
      const expected = versions[stream]!;
      const answer = await send(url(stream), 'POST', postHeaders, appendBody(expected));
      if (answer.status !== created) wrong(`${name} ${stream}`, answer);
      const { version } = JSON.parse(answer.text) as { version?: number };
      if (version !== expected + 1) wrong(`${name} ${stream}: version`, answer);
      versions[stream] = expected + 1;
    },
  };
};

const reader = (name: string, url: (stream: number) => URL): Subject => ({
  name,
  phase: 'read',
  async request(stream) {
    const answer = await send(url(stream), 'GET', getHeaders);
    if (answer.status !== 200) wrong(`${name} ${stream}`, answer);
    const { events } = JSON.parse(answer.text) as { events?: unknown[] };
    if (events?.length !== EVENTS) wrong(`${name} ${stream}: ${events?.length} events`, answer);
  },
});

/** The empty Worker: the same request as the phase's, answered 200 with nothing done. */
const empty = (phase: Phase): Subject => ({
  name: `${phase}: floor, empty Worker`,
  phase,
  async request() {
    const answer =
      phase === 'append'
        ? await send(EMPTY, 'POST', postHeaders, appendBody(1))
        : await send(EMPTY, 'GET', getHeaders);
    if (answer.status !== 200) wrong('empty', answer);
  },
});

const subjects: Subject[] = [
  appender('append: eventkv (1 event)', (s) => eventsUrl('append', s), 201),
  empty('append'),
  appender('append: floor, object get + put', (s) => floorUrl('append', 'append', s), 201),
  reader(`read: eventkv (${EVENTS}-event stream)`, (s) => eventsUrl('read', s)),
  empty('read'),
  reader(`read: floor, object list (${EVENTS})`, (s) => floorUrl('list', 'read', s)),
].filter((s) => ONLY === undefined || ONLY.some((o) => s.phase.startsWith(o)));
if (subjects.length === 0) throw new Error('--only: neither append nor read');

/** What each pair's ratio compares, and the target (eventkv / floor), if any. */
const PAIRS: readonly { eventkv: string; floor: string; goal?: number }[] = [
  { eventkv: 'append: eventkv (1 event)', floor: 'append: floor, empty Worker' },
  { eventkv: 'append: eventkv (1 event)', floor: 'append: floor, object get + put', goal: 0.8 },
  { eventkv: `read: eventkv (${EVENTS}-event stream)`, floor: 'read: floor, empty Worker' },
  {
    eventkv: `read: eventkv (${EVENTS}-event stream)`,
    floor: `read: floor, object list (${EVENTS})`,
    goal: 0.8,
  },
].filter(
  (p) => subjects.some((s) => s.name === p.eventkv) && subjects.some((s) => s.name === p.floor),
);

// ---------------------------------------------------------------------------------------------
// Measuring.

/** Streams `w, w + CONCURRENCY, ...`: loop `w`'s own, so appends never race on a stream. */
const owned = Array.from({ length: CONCURRENCY }, (_, w) =>
  Array.from({ length: Math.ceil((STREAMS - w) / CONCURRENCY) }, (_, i) => w + i * CONCURRENCY),
);

interface Sample {
  readonly requests: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** workerd's CPU time per request (µs), when it can be read. */
  readonly workerdUs: number | undefined;
  /** This process's CPU time per request (µs): the client's share of the machine. */
  readonly clientUs: number;
  readonly p50: number;
  readonly p99: number;
}

/**
 * One sample: `CONCURRENCY` loops, each sending one request at a time (its streams in
 * turn), until `MIN_MS` have passed; the requests answered over the time until the last
 * answer.
 */
const burst = async (subject: Subject): Promise<Sample> => {
  const latencies: number[] = [];
  const cpu0 = runtime.cpuMs();
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    owned.map(async (streams) => {
      for (let turn = 0; performance.now() - t0 < MIN_MS; turn++) {
        const start = performance.now();
        await subject.request(streams[turn % streams.length]!);
        latencies.push(performance.now() - start);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = runtime.cpuMs();
  const used = process.cpuUsage(client0);
  const n = latencies.length;
  latencies.sort((a, b) => a - b);
  return {
    requests: n,
    seconds,
    perSecond: n / seconds,
    workerdUs: cpu0 === undefined || cpu1 === undefined ? undefined : ((cpu1 - cpu0) * 1000) / n,
    clientUs: (used.user + used.system) / n,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
};

/** Untimed: the read phase's streams get `EVENTS` events each, on eventkv and on the floor. */
const seed = async () => {
  if (!subjects.some((s) => s.phase === 'read')) return;
  await Promise.all(
    owned.map(async (streams) => {
      for (const s of streams) {
        const answer = await send(eventsUrl('read', s), 'POST', postHeaders, appendBody(0, EVENTS));
        if (answer.status !== 201) wrong(`seed eventkv ${s}`, answer);
        for (let v = 0; v < EVENTS; v++) {
          const floor = await send(
            floorUrl('append', 'read', s),
            'POST',
            postHeaders,
            appendBody(v),
          );
          if (floor.status !== 201) wrong(`seed floor ${s}`, floor);
        }
      }
    }),
  );
};

const ms = (value: number): string =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);

try {
  const t0 = performance.now();
  await seed();
  log(`setup: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const samples = subjects.map((): Sample[] => []);
  for (let round = 0; round < WARMUP + REPS; round++) {
    const r0 = performance.now();
    for (let k = 0; k < subjects.length; k++) {
      const at = (round + k) % subjects.length;
      const sample = await burst(subjects[at]!);
      if (round >= WARMUP) samples[at]!.push(sample);
    }
    log(
      `${round < WARMUP ? 'warm-up' : `round ${round - WARMUP + 1}/${REPS}`} ` +
        `(${((performance.now() - r0) / 1000).toFixed(1)} s): ` +
        subjects
          .map((s, i) => `${s.name} ${samples[i]!.at(-1)?.perSecond.toFixed(0) ?? '-'}/s`)
          .join('; '),
    );
  }

  const of = (name: string) => samples[subjects.findIndex((s) => s.name === name)]!;
  const ratios = PAIRS.map((pair) => {
    const mine = of(pair.eventkv);
    const floor = of(pair.floor);
    const perRound = mine.map((s, r) => s.perSecond / floor[r]!.perSecond);
    const ofMedians = median(mine.map((s) => s.perSecond)) / median(floor.map((s) => s.perSecond));
    // The same comparison in workerd's CPU per request: floor / eventkv, so that 0.8x means
    // eventkv takes 1.25 times the floor's CPU (what caps its requests/s when workerd's
    // thread is the bottleneck).
    const cpu = (list: readonly Sample[]) =>
      median(list.flatMap((s) => (s.workerdUs === undefined ? [] : [s.workerdUs])));
    const cpuRatio = cpu(floor) / cpu(mine);
    return { ...pair, perRound, ofMedians, cpuRatio };
  });

  console.log(
    header('eventkv HTTP bench, apps/worker on local workerd (Miniflare),', started, load),
  );
  console.log(
    `${REPS} samples of >= ${MIN_MS} ms per subject after ${WARMUP} warm-up round; ` +
      `${CONCURRENCY} concurrent clients (node:http, keep-alive) on loopback to each Worker's own socket; ` +
      `${STREAMS} streams per phase; Durable Object storage under ${STORAGE}`,
  );
  console.log(
    'requests/s: median [lowest, highest sample]; CPU per request (workerd, and the Node client) and latency: medians of the samples',
  );
  console.log();
  console.log(
    table(
      ['subject', 'requests/s', 'workerd CPU µs/req', 'client CPU µs/req', 'p50 ms', 'p99 ms'],
      subjects.map((subject, i) => {
        const list = samples[i]!;
        const workerd = list.flatMap((s) => (s.workerdUs === undefined ? [] : [s.workerdUs]));
        return [
          subject.name,
          spread(
            list.map((s) => s.perSecond),
            formatRate,
          ),
          workerd.length === 0 ? 'n/a' : median(workerd).toFixed(0),
          median(list.map((s) => s.clientUs)).toFixed(0),
          ms(median(list.map((s) => s.p50))),
          ms(median(list.map((s) => s.p99))),
        ];
      }),
    ),
  );
  console.log();
  console.log(
    table(
      [
        'eventkv / floor (requests/s)',
        'of the medians',
        'per round: median [lowest, highest]',
        'CPU: floor / eventkv',
      ],
      ratios.map((r) => [
        `${r.eventkv} vs ${r.floor.replace(/^\w+: floor, /, '')}`,
        x(r.ofMedians),
        spread(r.perRound, x),
        Number.isNaN(r.cpuRatio) ? 'n/a' : x(r.cpuRatio),
      ]),
    ),
  );
  console.log();
  console.log('Targets');
  const targets = ratios.flatMap((r) =>
    r.goal === undefined
      ? []
      : [{ name: `${r.eventkv} vs ${r.floor}`, ratio: r.ofMedians, goal: r.goal }],
  );
  for (const t of targets) {
    console.log(
      `${t.ratio >= t.goal ? 'PASS' : 'MISS'}  ${t.name}: ${x(t.ratio)} (target >= ${t.goal}x)`,
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
      streams: STREAMS,
      events: EVENTS,
      storage: STORAGE,
    },
    {
      subjects: subjects.map((s, i) => ({ name: s.name, phase: s.phase, samples: samples[i] })),
      ratios,
      targets,
    },
  );
} finally {
  client.destroy();
  await runtime.dispose();
}
