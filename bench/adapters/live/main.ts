/**
 * `pnpm bench:live`: how long after an append its poke reaches the replicas' live sockets
 * (`GET /v1/{db}/sync/live`), with apps/worker in local workerd driven through Miniflare,
 * against two floors in the same workerd: a Durable Object that turns an HTTP request into
 * one message on each of its hibernatable sockets, and a plain WebSocket echo.
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { mintLocalToken } from '../../../apps/worker/scripts/local-dev.mjs';
import { median } from '../../src/measure.js';
import { makeDeposits } from '../../src/subject.js';
import { header, machine, positiveInt, writeJson } from '../shared/cli.js';
import { table } from '../sync/stats.js';
import { pushSubject } from './push.js';
import { startRuntime } from './workerd.js';

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    reps: { type: 'string', default: '5' },
    samples: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '30' },
    sockets: { type: 'string', default: '100' },
  },
});
const positive = positiveInt;
const REPS = positive('reps', values.reps);
const SAMPLES = positive('samples', values.samples);
const WARMUP = Number(values.warmup);
if (!Number.isInteger(WARMUP) || WARMUP < 0) throw new Error('--warmup must be 0 or more');
const MANY = positive('sockets', values.sockets);
if (MANY < 2) throw new Error('--sockets must be 2 or more (the one-socket case always runs)');

/** A local-only secret: the Worker is started with it and nothing else can reach it. */
const SECRET = 'bench-secret-local-only-0123456789abcdef';
const POKE = '{"type":"poke"}';
const log = (text: string) => process.stderr.write(`${text}\n`);

/** Sockets whose messages are counted and timed (Node's clock, at the `message` event). */
class SocketGroup {
  readonly #sockets: WebSocket[];
  readonly #counts: number[];
  readonly #at: number[];
  #waiter: { target: number; left: number; resolve: () => void } | undefined;
  #error: Error | undefined;

  private constructor(sockets: WebSocket[], expected: string) {
    this.#sockets = sockets;
    this.#counts = sockets.map(() => 0);
    this.#at = sockets.map(() => 0);
    sockets.forEach((socket, i) => {
      socket.on('error', (error) => {
        this.#error ??= error;
      });
      socket.on('message', (data) => {
        const now = performance.now();
        this.#counts[i]!++;
        this.#at[i] = now;
        if (String(data) !== expected) this.#error ??= new Error(`socket ${i}: got ${data}`);
        const waiter = this.#waiter;
        if (waiter && this.#counts[i] === waiter.target && --waiter.left === 0) {
          this.#waiter = undefined;
          waiter.resolve();
        }
      });
    });
  }

  /** Opens `count` sockets at once and waits until each is open. */
  static async open(
    count: number,
    url: (i: number) => URL,
    protocols: string[],
    expected: string,
  ): Promise<SocketGroup> {
    // No permessage-deflate (a browser offers it and workerd accepts it): ws inflates on
    // Node's thread pool, at most 10 messages at a time, which would time the client.
    const sockets = Array.from(
      { length: count },
      (_, i) => new WebSocket(url(i), protocols, { perMessageDeflate: false }),
    );
    // Counting starts before the sockets open: a message sent on opening is not missed.
    const group = new SocketGroup(sockets, expected);
    await Promise.all(
      sockets.map(
        (socket, i) =>
          new Promise<void>((resolve, reject) => {
            socket.once('open', () => resolve());
            socket.once('error', reject);
            socket.once('unexpected-response', (_, res) =>
              reject(new Error(`${url(i).pathname}: ${res.statusCode}`)),
            );
          }),
      ),
    );
    return group;
  }

  /** Resolves when every socket has received at least `target` messages (throws at once on a wrong one). */
  reach(target: number): Promise<void> {
    if (this.#error) throw this.#error;
    const left = this.#counts.filter((c) => c < target).length;
    if (left === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiter = { target, left, resolve };
    });
  }

  /**
   * Checks that every socket has received exactly `count` messages so far (none late or
   * extra), then resolves when each has received the next one.
   */
  next(count: number): Promise<void> {
    const wrong = this.#counts.findIndex((c) => c !== count);
    if (wrong >= 0) {
      throw new Error(`socket ${wrong}: ${this.#counts[wrong]} messages, expected ${count}`);
    }
    return this.reach(count + 1);
  }

  /** When the first and the last socket received their latest message. */
  arrivals(): { first: number; last: number } {
    return { first: Math.min(...this.#at), last: Math.max(...this.#at) };
  }

  send(text: string, i = 0): void {
    this.#sockets[i]!.send(text);
  }

  close(): void {
    for (const socket of this.#sockets) socket.close(1000, 'done');
  }
}

/** One timed sample, in ms from just before the trigger was sent. */
interface Sample {
  /** The message at the first socket and at the last one (the same with one socket). */
  readonly first: number;
  readonly last: number;
  /** The HTTP request's answer (absent for the echo). */
  readonly answered?: number;
}

interface Subject {
  readonly name: string;
  readonly sockets: number;
  /** Opens the subject's sockets on a new database (or object), for repetition `rep`. */
  open(rep: number): Promise<void>;
  sample(): Promise<Sample>;
  close(): void;
}

const started = new Date();
const load = machine().load;
const runtime = await startRuntime({
  AUTH_SECRET: SECRET,
  ROUTING: 'database',
  RATE_LIMIT_PER_MINUTE: '0',
});
const wsUrl = (base: URL, path: string): URL => {
  const url = new URL(path, base);
  url.protocol = 'ws:';
  return url;
};

/** The same request shape for eventkv and the floor: one event, as JSON, with a token. */
const postEvent = async (url: URL, authorization: string, expectedVersion: number | string) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ events: makeDeposits(1), expectedVersion }),
  });
  return { status: response.status, body: (await response.json()) as unknown };
};

/**
 * eventkv: `count` replicas' live sockets on one database (each with its own client id),
 * and a writer appending one event to one stream over HTTP.
 */
const eventkvSubject = (count: number): Subject => {
  let group: SocketGroup | undefined;
  let version = 0;
  let received = 0;
  let events: URL;
  let authorization = '';
  return {
    name: `eventkv, ${count} socket${count === 1 ? '' : 's'}`,
    sockets: count,
    async open(rep) {
      const db = `live-${count}-r${rep}-${started.getTime()}`;
      const token = await mintLocalToken(db, { secret: SECRET, subject: 'bench' });
      authorization = `Bearer ${token}`;
      events = new URL(`/v1/${db}/streams/Account/writer/events`, runtime.eventkv);
      const live = wsUrl(runtime.eventkv, `/v1/${db}/sync/live`);
      group = await SocketGroup.open(
        count,
        (i) => new URL(`${live.href}?clientId=replica-${i}`),
        ['eventkv-sync.1', `bearer.${token}`],
        POKE,
      );
      await group.reach(1); // the poke at once on opening
      version = 0;
      received = 1;
    },
    async sample() {
      const g = group as SocketGroup;
      const poked = g.next(received);
      const t0 = performance.now();
      const answer = await postEvent(events, authorization, version === 0 ? 'no-stream' : version);
      const answered = performance.now() - t0;
      const body = answer.body as { version?: number };
      if (answer.status !== 201 || body.version !== version + 1) {
        throw new Error(`append: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
      }
      version++;
      await poked;
      received++;
      const { first, last } = g.arrivals();
      return { first: first - t0, last: last - t0, answered };
    },
    close: () => group?.close(),
  };
};

/** Floor: `count` sockets held by one `PokeHub` object, poked by an HTTP POST. */
const hubSubject = (count: number): Subject => {
  let group: SocketGroup | undefined;
  let received = 0;
  let poke: URL;
  const authorization = 'Bearer not-checked';
  return {
    name: `floor: object pokes ${count} socket${count === 1 ? '' : 's'}`,
    sockets: count,
    async open(rep) {
      const hub = `hub-${count}-r${rep}-${started.getTime()}`;
      poke = new URL(`/hub/poke?hub=${hub}`, runtime.floor);
      group = await SocketGroup.open(
        count,
        () => wsUrl(runtime.floor, `/hub/socket?hub=${hub}`),
        [],
        POKE,
      );
      await group.reach(1);
      received = 1;
    },
    async sample() {
      const g = group as SocketGroup;
      const poked = g.next(received);
      const t0 = performance.now();
      const answer = await postEvent(poke, authorization, received);
      const answered = performance.now() - t0;
      if (answer.status !== 200 || answer.body !== count) {
        throw new Error(`poke: ${answer.status} ${JSON.stringify(answer.body)}`);
      }
      await poked;
      received++;
      const { first, last } = g.arrivals();
      return { first: first - t0, last: last - t0, answered };
    },
    close: () => group?.close(),
  };
};

/** Floor: a message on a plain Worker WebSocket, echoed back (a round trip). */
const echoSubject = (): Subject => {
  let group: SocketGroup | undefined;
  let received = 0;
  return {
    name: 'floor: echo, 1 socket (round trip)',
    sockets: 1,
    async open() {
      group = await SocketGroup.open(1, () => wsUrl(runtime.floor, '/echo'), [], POKE);
      received = 0;
    },
    async sample() {
      const g = group as SocketGroup;
      const echoed = g.next(received);
      const t0 = performance.now();
      g.send(POKE);
      await echoed;
      received++;
      const { first } = g.arrivals();
      return { first: first - t0, last: first - t0 };
    },
    close: () => group?.close(),
  };
};

const subjects: Subject[] = [
  eventkvSubject(1),
  eventkvSubject(MANY),
  hubSubject(1),
  hubSubject(MANY),
  echoSubject(),
  // Push: the events themselves, from the object that holds them (see push.ts).
  ...(['database', 'stream'] as const).flatMap((routing) =>
    (['stream', 'log'] as const).map((kind) =>
      pushSubject({
        base: routing === 'database' ? runtime.eventkv : runtime.eventkvStream,
        routing,
        kind,
        count: 1,
        secret: SECRET,
        started,
      }),
    ),
  ),
  pushSubject({
    base: runtime.eventkvStream,
    routing: 'stream',
    kind: 'stream',
    count: MANY,
    secret: SECRET,
    started,
  }),
];

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

interface Stats {
  readonly p50: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
}
const statsOf = (values: readonly number[]): Stats => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
};

/** One repetition of one subject: every sample, and the statistics of each measure. */
interface RepResult {
  readonly samples: Sample[];
  readonly first: Stats;
  readonly last: Stats;
  readonly answered: Stats | undefined;
  /** The message at the first socket less the HTTP answer (negative: the message came first). */
  readonly afterAnswer: Stats | undefined;
}

/**
 * One repetition: every subject opens its sockets (new databases and objects), then each
 * round runs one sample of every subject, the order turning by one each round, so drift
 * and background load reach all of them alike. Warm-up rounds are not kept.
 */
const repetition = async (rep: number): Promise<RepResult[]> => {
  for (const subject of subjects) await subject.open(rep);
  const samples: Sample[][] = subjects.map(() => []);
  try {
    for (let round = 0; round < WARMUP + SAMPLES; round++) {
      for (let k = 0; k < subjects.length; k++) {
        const at = (round + k) % subjects.length;
        const sample = await subjects[at]!.sample();
        if (round >= WARMUP) samples[at]!.push(sample);
      }
    }
    // A poke that came late or twice would show at the sockets' next sample: take one more
    // of each (not kept), which checks every socket's count.
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const subject of subjects) await subject.sample();
  } finally {
    for (const subject of subjects) subject.close();
  }
  return samples.map((list) => {
    const http = list.flatMap((s) => (s.answered === undefined ? [] : [s]));
    return {
      samples: list,
      first: statsOf(list.map((s) => s.first)),
      last: statsOf(list.map((s) => s.last)),
      answered: http.length > 0 ? statsOf(http.map((s) => s.answered as number)) : undefined,
      afterAnswer:
        http.length > 0 ? statsOf(http.map((s) => s.first - (s.answered as number))) : undefined,
    };
  });
};

const ms = (value: number): string =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
/** `median [lowest, highest]` over the repetitions. */
const spread = (values: readonly number[], format = ms): string =>
  `${format(median(values))} [${format(Math.min(...values))}, ${format(Math.max(...values))}]`;

try {
  const reps: RepResult[][] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const t0 = performance.now();
    const result = await repetition(rep);
    reps.push(result);
    log(
      `rep ${rep + 1}/${REPS} (${((performance.now() - t0) / 1000).toFixed(1)} s): ` +
        subjects
          .map((s, i) => `${s.name} p50 ${ms(result[i]!.last.p50)} p99 ${ms(result[i]!.last.p99)}`)
          .join('; '),
    );
  }

  /** The rows: each subject's first socket, and its last one when it has several. */
  const rows = subjects.flatMap((subject, i) => {
    const of = (pick: (r: RepResult) => Stats) => reps.map((rep) => pick(rep[i]!));
    const row = (label: string, stats: Stats[]) => ({ label, stats, subject, index: i });
    return subject.sockets === 1
      ? [
          row(
            subject.name,
            of((r) => r.first),
          ),
        ]
      : [
          row(
            `${subject.name}: first`,
            of((r) => r.first),
          ),
          row(
            `${subject.name}: last`,
            of((r) => r.last),
          ),
        ];
  });
  /** With one socket and an HTTP trigger: when the answer came, and the message after it. */
  const answeredRows = subjects.flatMap((subject, i) => {
    const answered = reps.flatMap((rep) => (rep[i]!.answered ? [rep[i]!.answered] : []));
    const after = reps.flatMap((rep) => (rep[i]!.afterAnswer ? [rep[i]!.afterAnswer] : []));
    return answered.length > 0 && subject.sockets === 1
      ? [
          { label: `${subject.name}: HTTP answer`, stats: answered },
          { label: `${subject.name}: message - answer`, stats: after },
        ]
      : [];
  });
  const line = ({ label, stats }: { label: string; stats: Stats[] }) => [
    label,
    spread(stats.map((s) => s.p50)),
    spread(stats.map((s) => s.p99)),
    ms(Math.min(...stats.map((s) => s.min))),
    ms(Math.max(...stats.map((s) => s.max))),
  ];

  /** floor / eventkv of a percentile, per repetition (above 1.0x: eventkv is faster). */
  const pairs: [string, string][] = [
    ['eventkv, 1 socket', 'floor: object pokes 1 socket'],
    ['eventkv, 1 socket', 'floor: echo, 1 socket (round trip)'],
    [`eventkv, ${MANY} sockets: first`, `floor: object pokes ${MANY} sockets: first`],
    [`eventkv, ${MANY} sockets: last`, `floor: object pokes ${MANY} sockets: last`],
    ['push stream, stream routing, 1 socket', 'floor: object pokes 1 socket'],
    [
      `push stream, stream routing, ${MANY} sockets: last`,
      `floor: object pokes ${MANY} sockets: last`,
    ],
  ];
  const find = (label: string) => rows.find((r) => r.label === label) as (typeof rows)[number];
  const ratios = pairs.map(([e, f]) => {
    const eventkv = find(e).stats;
    const floor = find(f).stats;
    const per = (p: 'p50' | 'p99') => eventkv.map((s, r) => floor[r]![p] / s[p]);
    return { eventkv: e, floor: f, p50: per('p50'), p99: per('p99') };
  });
  const x = (value: number) => `${value.toFixed(2)}x`;

  console.log(
    header('eventkv live bench, apps/worker in local workerd (Miniflare),', started, load),
  );
  console.log(
    `${REPS} repetitions of ${SAMPLES} sequential samples after ${WARMUP} warm-up rounds; ` +
      'ms from just before the request (or the echoed message) is sent to the message at a socket',
  );
  console.log(
    'per percentile: the median of the repetitions [lowest, highest repetition]; min and max over all samples',
  );
  console.log();
  console.log(
    table(['latency ms', 'p50', 'p99', 'min', 'max'], [...rows, ...answeredRows].map(line)),
  );
  console.log();
  console.log(
    table(
      ['eventkv vs floor (floor/eventkv: above 1.0x, eventkv is faster)', 'p50', 'p99'],
      ratios.map((r) => [
        `${r.eventkv} vs ${r.floor.replace('floor: ', '')}`,
        spread(r.p50, x),
        spread(r.p99, x),
      ]),
    ),
  );
  const seconds = (Date.now() - started.getTime()) / 1000;
  console.log();
  console.log(`Total ${seconds.toFixed(0)} s`);
  if (values.json !== undefined) {
    writeJson(values.json, {
      date: started.toISOString(),
      machine: machine(),
      settings: { reps: REPS, samples: SAMPLES, warmup: WARMUP, sockets: MANY },
      seconds,
      rows: rows.map(({ label, stats }) => ({ label, stats })),
      answered: answeredRows,
      ratios,
      samples: subjects.map((subject, i) => ({
        subject: subject.name,
        reps: reps.map((rep) => rep[i]!.samples),
      })),
    });
  }
} finally {
  await runtime.dispose();
}
