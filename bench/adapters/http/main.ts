/**
 * `pnpm bench:http`: the Worker's HTTP append and read round trips (apps/worker on local
 * Durable Object storage), under a bounded concurrent load on loopback.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mintLocalToken, startLocalWorker } from '../../../apps/worker/scripts/local-dev.mjs';
import { makeDeposits } from '../../src/subject.js';
import { header, machine, wranglerLogLevel, writeJson } from '../shared/cli.js';

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    streams: { type: 'string', default: '100' },
    'cap-s': { type: 'string', default: '30' },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const STREAMS = Number(values.streams);
/** Each phase stops at this many seconds even if not all requests were sent. */
const CAP_MS = Number(values['cap-s']) * 1000;
/** A local-only secret: the Worker is started with it and nothing else can reach it. */
const SECRET = 'bench-secret-local-only-0123456789abcdef';
const DATABASE = 'bench';

const started = new Date();
const load = machine().load;
const log = (text: string) => process.stderr.write(`${text}\n`);
const worker = await startLocalWorker({
  // Resolved from the bundled runner in bench/dist/ (the default is relative to the module).
  config: fileURLToPath(new URL('../../apps/worker/wrangler.jsonc', import.meta.url)),
  vars: { AUTH_SECRET: SECRET, RATE_LIMIT_PER_MINUTE: '0' },
  logLevel: wranglerLogLevel(),
});
const authorization = `Bearer ${await mintLocalToken(DATABASE, { secret: SECRET, subject: 'bench' })}`;
const streamUrl = (stream: number) =>
  new URL(`/v1/${DATABASE}/streams/Account/bench-${stream}/events`, worker.url);

interface Phase {
  readonly name: string;
  readonly done: number;
  readonly failed: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/**
 * Sends `REQUESTS` requests from `CONCURRENCY` loops, loop `w` owning the streams
 * `w, w + CONCURRENCY, ...` (so appends never race on a stream), stopping at `CAP_MS`.
 */
const phase = async (
  name: string,
  request: (stream: number) => Promise<boolean>,
  count = REQUESTS,
): Promise<Phase> => {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  const loop = async (w: number) => {
    const owned = Array.from(
      { length: Math.ceil(STREAMS / CONCURRENCY) },
      (_, i) => w + i * CONCURRENCY,
    ).filter((s) => s < STREAMS);
    for (let turn = 0; next < count && performance.now() - t0 < CAP_MS; turn++) {
      next++;
      const start = performance.now();
      const ok = await request(owned[turn % owned.length]!);
      latencies.push(performance.now() - start);
      if (!ok) failed++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => loop(w)));
  const seconds = (performance.now() - t0) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    name,
    done: latencies.length,
    failed,
    seconds,
    perSecond: latencies.length / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
};

const versions = new Array<number>(STREAMS).fill(0);
const deposits = makeDeposits(1);
const append = async (stream: number): Promise<boolean> => {
  const response = await fetch(streamUrl(stream), {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({
      events: deposits,
      expectedVersion: versions[stream] === 0 ? 'no-stream' : versions[stream],
    }),
  });
  const body = (await response.json()) as { version?: number };
  if (response.status !== 201 || body.version !== versions[stream]! + 1) {
    log(`append ${stream}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
    return false;
  }
  versions[stream] = body.version;
  return true;
};
const read = async (stream: number): Promise<boolean> => {
  const response = await fetch(streamUrl(stream), { headers: { authorization } });
  const body = (await response.json()) as { events?: unknown[] };
  // Every event appended to that stream must come back.
  return response.status === 200 && body.events?.length === versions[stream];
};

try {
  // Untimed: one append per stream first, so every stream's object exists (cold starts out).
  const warm = await phase('warm-up', append, STREAMS);
  if (warm.failed > 0) throw new Error(`warm-up: ${warm.failed} appends failed`);
  log(`warm-up: ${warm.done} appends`);
  const phases = [
    await phase('append (1 event)', append),
    await phase('read (whole stream)', read),
  ];
  console.log(header('eventkv HTTP bench, apps/worker in local workerd,', started, load));
  console.log(
    `${REQUESTS} requests per phase (time cap ${CAP_MS / 1000} s), concurrency ${CONCURRENCY}, ` +
      `${STREAMS} streams, loopback; latency = one request's round trip`,
  );
  console.log();
  const rows = phases.map((p) => [
    p.name,
    String(p.done),
    String(p.failed),
    p.perSecond.toFixed(0),
    p.p50.toFixed(1),
    p.p99.toFixed(1),
  ]);
  const head = ['phase', 'requests', 'failed', 'requests/s', 'p50 ms', 'p99 ms'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(
    [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n'),
  );
  console.log();
  for (const p of phases) {
    const complete = p.done === REQUESTS && p.failed === 0;
    console.log(
      `${complete ? 'PASS' : 'MISS'}  ${p.name}: ${p.done - p.failed} of ${REQUESTS} requests answered correctly within the cap`,
    );
  }
  const seconds = (Date.now() - started.getTime()) / 1000;
  console.log();
  console.log(`Total ${seconds.toFixed(0)} s`);
  if (values.json !== undefined) {
    writeJson(values.json, {
      date: started.toISOString(),
      machine: machine(),
      settings: { requests: REQUESTS, concurrency: CONCURRENCY, streams: STREAMS, capMs: CAP_MS },
      seconds,
      phases,
    });
  }
  if (phases.some((p) => p.failed > 0)) process.exitCode = 1;
} finally {
  await worker.dispose();
}
