// Durable Object benchmark: eventkv on createDurableObjectKv vs two raw storage floors,
// measured in the same run, inside workerd (Miniflare, local SQLite-backed storage).
// Usage (from bench/): node durable-object/run.mjs [--reps 5] [--min-ms 100] [--json out.json]
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
// Miniflare ships with wrangler; resolve it from there rather than adding a dependency.
const { Miniflare, convertV4MiniflareOptions } = createRequire(
  require.resolve('wrangler/package.json'),
)('miniflare');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const REPS = Number(arg('reps', 5));
const MIN_MS = Number(arg('min-ms', 100));
const JSON_OUT = arg('json', undefined);

const SUBJECTS = ['eventkv', 'eventkv lean', 'async put/list', 'sync kv'];
const FLOORS = ['async put/list', 'sync kv'];
const ROWS = [
  { id: 'W1a', title: 'append 10k, one per call', unit: 'events/s', group: 'append', target: 0.7 },
  {
    id: 'W1b',
    title: 'append 10k, batches of 100',
    unit: 'events/s',
    group: 'append',
    target: 0.7,
  },
  { id: 'W2a', title: 'read 10k-event stream', unit: 'events/s', group: 'read', target: 0.8 },
  { id: 'W2b', title: 'read 100-event slice', unit: 'events/s', group: 'read', target: 0.8 },
  { id: 'W4', title: 'version(), 10-event stream', unit: 'ops/s', group: 'read', target: 0.8 },
];
// Lean settings only change what an append writes.
const subjectsOf = (row) =>
  row.group === 'append' ? SUBJECTS : SUBJECTS.filter((s) => s !== 'eventkv lean');

const outfile = join(here, 'dist', 'worker.js');
await build({
  entryPoints: [join(here, 'worker.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  conditions: ['@eventkv/source', 'workerd', 'worker', 'browser'],
  external: ['cloudflare:*'],
  outfile,
  logLevel: 'warning',
});

const mf = new Miniflare(
  convertV4MiniflareOptions({
    modules: true,
    scriptPath: outfile,
    compatibilityDate: '2026-08-01',
    durableObjects: { BENCH: { className: 'BenchObject', useSQLite: true } },
  }),
);

const call = async (path, params) => {
  const res = await mf.dispatchFetch(`http://bench${path}?${new URLSearchParams(params)}`);
  const body = await res.json();
  if (!res.ok) throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`);
  return body;
};

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** One sample: a call that repeats the workload `times` times, timed from here. */
const sample = async (subject, row, times) => {
  const start = performance.now();
  const { units } = await call('/run', {
    object: `${row.group}-${subject}`,
    subject,
    workload: row.id,
    times,
  });
  return (units * 1000) / (performance.now() - start);
};

const started = performance.now();
const load0 = loadavg()[0];
for (const subject of SUBJECTS) await call('/seed', { object: `read-${subject}`, subject });

const results = {};
for (const row of ROWS) {
  const subjects = subjectsOf(row);
  const times = {};
  for (const subject of subjects) {
    // Calibrate (also the warm-up round): enough repetitions for a sample of >= MIN_MS.
    const t0 = performance.now();
    await call('/run', { object: `${row.group}-${subject}`, subject, workload: row.id, times: 1 });
    times[subject] = Math.max(1, Math.ceil(MIN_MS / (performance.now() - t0)));
  }
  const samples = Object.fromEntries(subjects.map((s) => [s, []]));
  for (let rep = 0; rep < REPS; rep++) {
    // Each round starts one subject later, so drift hits all of them alike.
    for (let k = 0; k < subjects.length; k++) {
      const subject = subjects[(rep + k) % subjects.length];
      samples[subject].push(await sample(subject, row, times[subject]));
    }
  }
  results[row.id] = Object.fromEntries(
    subjects.map((s) => [s, { median: median(samples[s]), samples: samples[s] }]),
  );
  process.stderr.write(`${row.id} done\n`);
}
await mf.dispose();

const fmt = (n) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(1);
const table = (header, lines) => {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(line)].join('\n');
};

const out = [];
out.push(
  `eventkv durable-object bench ${new Date().toISOString()}  ${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'})  Node ${process.version}  load ${load0.toFixed(2)} -> ${loadavg()[0].toFixed(2)}`,
);
out.push(
  `${REPS} samples of >= ${MIN_MS} ms after 1 warm-up; medians; workerd via Miniflare, SQLite-backed storage\n`,
);
out.push(
  table(
    ['Median throughput', ...SUBJECTS],
    ROWS.map((row) => [
      `${row.id.padEnd(4)} ${row.title} (${row.unit})`,
      ...SUBJECTS.map((s) => (results[row.id][s] ? fmt(results[row.id][s].median) : '-')),
    ]),
  ),
);
out.push('\nTargets (eventkv vs the faster floor of the same run)');
const targets = [];
for (const row of ROWS) {
  const floor = Math.max(...FLOORS.map((f) => results[row.id][f].median));
  const floorName = FLOORS.find((f) => results[row.id][f].median === floor);
  for (const subject of ['eventkv', 'eventkv lean']) {
    if (!results[row.id][subject]) continue;
    const ratio = results[row.id][subject].median / floor;
    const pass = ratio >= row.target;
    targets.push({ row: row.id, subject, floor: floorName, ratio, target: row.target, pass });
    out.push(
      `${pass ? 'PASS' : 'MISS'}  ${row.id} ${subject} vs ${floorName}: ${ratio.toFixed(2)}x (target >= ${row.target}x)`,
    );
  }
}
out.push(`\nTotal ${Math.round((performance.now() - started) / 1000)} s`);
console.log(out.join('\n'));
if (JSON_OUT)
  writeFileSync(JSON_OUT, JSON.stringify({ reps: REPS, minMs: MIN_MS, results, targets }, null, 2));
