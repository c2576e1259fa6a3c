/**
 * `pnpm bench:tail`: how long after an append starts the HTTP client's tails deliver it,
 * with apps/worker in local workerd (the benches' shared launcher, default 'stream'
 * routing): `stream.subscribe` and `store.subscribeLog` as they are (long-polls on
 * `GET .../events?wait=` and `GET .../log?wait=`), against the tail they replace (a poll
 * every 1000 ms, `followStream` with a sleep), in the same run. The append's own round
 * trip is given beside them: a tail cannot deliver before the event is written.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { followStream, type RecordedEvent, type Unsubscribe } from '@eventkv/core';
import { mintLocalToken } from '../../../apps/worker/scripts/local-dev.mjs';
import { createHttpEventStore } from '../../../packages/client/src/index.js';
import { header, positiveInt, writeJson } from '../shared/cli.js';
import { startWorkerd } from '../shared/workerd.js';
import { table } from '../sync/stats.js';

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    samples: { type: 'string', default: '200' },
    'poll-samples': { type: 'string', default: '40' },
  },
});
const SAMPLES = positiveInt('samples', values.samples);
const POLL_SAMPLES = positiveInt('poll-samples', values['poll-samples']);

/** A local-only secret: the Worker is started with it and nothing else can reach it. */
const SECRET = 'bench-secret-local-only-0123456789abcdef';
const log = (text: string) => process.stderr.write(`${text}\n`);
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
const summary = (ms: readonly number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { n: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
};

type Deposit = { type: 'Deposited'; data: { amount: number } };
type Store = ReturnType<typeof createHttpEventStore<Deposit>>;
type Stream = ReturnType<Store['stream']>;
type Tail = (listener: (events: RecordedEvent<Deposit>[]) => void) => Unsubscribe;

/**
 * Appends one event at a time, each after a random pause of 0 to `spreadMs` (for a polling
 * tail its interval: an append lands anywhere in a poll's cycle, instead of right after
 * the poll that delivered the previous one), and times each from the append's start to
 * the tail's delivery, and to the append's answer.
 */
const measure = async (
  append: (n: number) => Promise<unknown>,
  tail: Tail,
  samples: number,
  spreadMs: number,
): Promise<{ tail: number[]; append: number[] }> => {
  const delivered = new Map<number, number>();
  let waiting: { n: number; resolve: () => void } | undefined;
  const stop = tail((events) => {
    const at = performance.now();
    for (const event of events) {
      delivered.set(event.data.amount, at);
      if (waiting?.n === event.data.amount) waiting.resolve();
    }
  });
  const times = { tail: [] as number[], append: [] as number[] };
  try {
    await pause(200); // the tail has read where it starts
    for (let n = 1; n <= samples; n++) {
      await pause(Math.random() * spreadMs);
      const arrived = new Promise<void>((resolve) => {
        waiting = { n, resolve };
      });
      const start = performance.now();
      await append(n);
      times.append.push(performance.now() - start);
      if (!delivered.has(n)) await arrived;
      times.tail.push((delivered.get(n) as number) - start);
    }
  } finally {
    stop();
  }
  return times;
};

const main = async () => {
  const started = new Date();
  const load = loadavg()[0] ?? 0;
  const workerd = await startWorkerd([
    { name: 'eventkv', eventkv: { vars: { AUTH_SECRET: SECRET, RATE_LIMIT_PER_MINUTE: '0' } } },
  ]);
  const url = workerd.url('eventkv');
  const rows: string[][] = [];
  const report: Record<string, unknown> = { started: started.toISOString(), samples: SAMPLES };
  try {
    /** A subject over a fresh HTTP store: appends to one stream, and `tail` follows it. */
    const subject =
      (tail: (store: Store, stream: Stream, listener: Parameters<Tail>[0]) => Unsubscribe) =>
      async (db: string) => {
        const store = createHttpEventStore<Deposit>(url, {
          token: await mintLocalToken(db, { secret: SECRET }),
        });
        const stream = store.stream({ type: 'Account', id: '1' });
        return {
          append: (n: number) => stream.append({ type: 'Deposited', data: { amount: n } }),
          tail: (listener: Parameters<Tail>[0]) => tail(store, stream, listener),
        };
      };
    // Name, appends, the spread of the pauses between them (ms), and the subject.
    const subjects: [
      string,
      number,
      number,
      (db: string) => Promise<{ append: (n: number) => Promise<unknown>; tail: Tail }>,
    ][] = [
      [
        'stream.subscribe (long-poll)',
        SAMPLES,
        50,
        subject((_store, stream, listener) => stream.subscribe(listener)),
      ],
      [
        'store.subscribeLog (long-poll)',
        SAMPLES,
        50,
        subject((store, _stream, listener) => store.subscribeLog(listener)),
      ],
      [
        'stream tail polling every 1000 ms (before)',
        POLL_SAMPLES,
        1000,
        subject((_store, stream, listener) => followStream(stream, listener, {}, { sleep: pause })),
      ],
    ];
    for (const [name, samples, spreadMs, make] of subjects) {
      log(`${name}: ${samples} appends...`);
      const subject = await make(`tail-${crypto.randomUUID()}`);
      const times = await measure(subject.append, subject.tail, samples, spreadMs);
      const tail = summary(times.tail);
      const append = summary(times.append);
      report[name] = { tail, append };
      rows.push([
        name,
        String(tail.n),
        tail.p50.toFixed(1),
        tail.p99.toFixed(1),
        append.p50.toFixed(1),
        append.p99.toFixed(1),
      ]);
    }
  } finally {
    await workerd.dispose();
  }
  console.log(
    header('eventkv tail latency, apps/worker on local workerd (Miniflare),', started, load),
  );
  console.log(
    table(['tail (append to delivery, ms)', 'n', 'p50', 'p99', 'append p50', 'append p99'], rows),
  );
  if (values.json) writeJson(values.json, report);
};

await main();
