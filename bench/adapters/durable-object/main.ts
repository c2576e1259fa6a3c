/**
 * `pnpm bench:durable-object`: eventkv on the Durable Object adapter beside three raw
 * floors (async put/list, sync kv in transactionSync, an SQL event table with the same
 * indexes), in local workerd.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalWorker } from '../../../apps/worker/scripts/local-dev.mjs';
import { median, type Run } from '../../src/measure.js';
import { header, machine, parseCli, wranglerLogLevel, writeJson } from '../shared/cli.js';
import { adapterRatios, checkTargets, renderAdapter } from '../shared/report.js';
import { runAdapterBench } from '../shared/run.js';
import type { AdapterSubject } from '../shared/subject.js';
import { defaultStorageRoot } from '../shared/workerd.js';
import { type AdapterWorkload, adapterWorkloads, type Sizes } from '../shared/workloads.js';

/**
 * The core bench's sizes for reads; appends cut to 1,000 (W1a) and 2,000 (W1b) events:
 * local workerd reset the object after larger ones in one request (see README). W3b is
 * left out (no target here).
 */
const SIZES: Sizes = {
  appendOne: 1_000,
  appendBatch: 2_000,
  readStream: 10_000,
  streams: 1_000,
  repeat: 100,
};
const SUBJECTS = ['eventkv', 'eventkv lean', 'async put/list', 'sync kv', 'sql table'];
const FLOORS = ['async put/list', 'sync kv', 'sql table'];
/** The floors of reads and `version()`: the key-value APIs eventkv reads with. */
const KV_FLOORS = ['async put/list', 'sync kv'];
const TARGETS = [
  // Appends with the defaults (global log, four indexes: six index keys per event): in
  // batches, against the SQL table that keeps the same indexes; one per call, against the
  // synchronous KV floor (one get, two puts, no indexes).
  { row: 'W1b', subject: 'eventkv', versus: ['sql table'], goal: 0.6 },
  ...['eventkv', 'eventkv lean'].map((subject) => ({
    row: 'W1a',
    subject,
    versus: ['sync kv'],
    goal: 0.6,
  })),
  ...['W2a', 'W2b', 'W4'].map((row) => ({
    row,
    subject: 'eventkv',
    versus: KV_FLOORS,
    goal: 0.8,
  })),
];
/** A timed request shorter than this is repeated more times per request next time. */
const MIN_REQUEST_MS = 250;

const { settings, plain, json } = parseCli({ reps: 3, warmup: 1, minMs: 500 });
const started = new Date();
const load = machine().load;
// Resolved from the bundled runner in bench/dist/.
const config = fileURLToPath(new URL('../adapters/durable-object/wrangler.jsonc', import.meta.url));
// Storage in memory (/dev/shm where there is one), as in the HTTP bench: on the disk of this
// shared machine, commits wait on the other jobs' I/O, and the bench timed the disk.
const storage = mkdtempSync(join(defaultStorageRoot(), 'eventkv-bench-do-'));
// Not watched: a source edited during the run would restart workerd and reset the object.
const worker = await startLocalWorker({
  config,
  logLevel: wranglerLogLevel(),
  persist: storage,
  watch: false,
});

const call = async (path: string, params: Record<string, string | number>): Promise<number> => {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const response = await fetch(new URL(`${path}?${query}`, worker.url));
  const text = await response.text();
  const body = (response.ok ? JSON.parse(text) : { error: text }) as number | { error: string };
  if (typeof body !== 'number') throw new Error(`${path} ${query}: ${body.error}`);
  return body;
};

/** The empty round trip to an object, Node -> Worker -> object -> back (median of 30). */
const roundTrip = async (object: string): Promise<number> => {
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await call('/noop', { object });
    times.push(performance.now() - t0);
  }
  return median(times);
};

/**
 * A Node-side stand-in for a workload: preparing it prepares the real one inside the
 * workload's object, and each run is one request that repeats the run `times` times there.
 */
const remote = (
  workload: AdapterWorkload,
  index: number,
  rtt: Map<Run, number>,
): AdapterWorkload => ({
  ...workload,
  async prepare(subject) {
    const object = `w${index}-${started.getTime()}`;
    await call('/prepare', {
      object,
      sizes: JSON.stringify(SIZES),
      workload: index,
      subject: subject.name,
    });
    const empty = await roundTrip(object);
    const runs = workload.rows.map((_, row) => {
      let times = 1;
      const run: Run = async () => {
        const t0 = performance.now();
        const units = await call('/run', { object, subject: subject.name, row, times });
        if (performance.now() - t0 < MIN_REQUEST_MS) times *= 2;
        return units;
      };
      rtt.set(run, empty);
      return run;
    });
    return { runs, dispose: async () => {} };
  },
});

const rtt = new Map<Run, number>();
const workloads = adapterWorkloads(SIZES)
  .map((w, i) => remote(w, i, rtt))
  .filter((w) => !w.rows.some((row) => row.id === 'W3b'));
const subjects: AdapterSubject[] = SUBJECTS.map((name) => ({
  name,
  role: name === 'eventkv' || name === 'eventkv lean' ? name : 'floor',
  create: () => Promise.reject(new Error('runs inside the object')),
}));

try {
  const rows = await runAdapterBench(workloads, subjects, {
    ...settings,
    // Time from Node around each request, less the empty round trip of that object.
    async sampler(run, minMs) {
      let units = 0;
      let elapsed = 0;
      do {
        const t0 = performance.now();
        units += await run();
        elapsed += Math.max(performance.now() - t0 - (rtt.get(run) ?? 0), 0.001);
      } while (elapsed < minMs);
      return (units * 1000) / elapsed;
    },
  });
  const ratios = adapterRatios(rows, ['eventkv', 'eventkv lean'], FLOORS);
  const targets = checkTargets(rows, TARGETS);
  const rtts = [...new Set(rtt.values())].map((ms) => ms.toFixed(2));
  console.log(header('eventkv Durable Object bench, local workerd,', started, load));
  console.log(
    `${settings.reps} samples of >= ${settings.minMs} ms after ${settings.warmup} warm-up; medians; ` +
      `empty round trip ${Math.min(...rtts.map(Number))}-${Math.max(...rtts.map(Number))} ms subtracted`,
  );
  console.log();
  console.log(renderAdapter(rows, SUBJECTS, ratios, targets));
  console.log();
  const seconds = (Date.now() - started.getTime()) / 1000;
  console.log(`Total ${seconds.toFixed(0)} s`);
  if (json !== undefined) {
    writeJson(json, {
      date: started.toISOString(),
      machine: machine(),
      settings: plain,
      sizes: SIZES,
      seconds,
      rows,
      ratios,
      targets,
    });
  }
} finally {
  await worker.dispose();
  rmSync(storage, { recursive: true, force: true });
}
