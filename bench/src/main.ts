import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { median, type Run, sample } from './measure.js';
import { type RowResult, ratios, render, targets } from './report.js';
import { SUBJECTS, WORKLOADS } from './workloads.js';

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    reps: { type: 'string', default: '7' },
    warmup: { type: 'string', default: '1' },
    'min-ms': { type: 'string', default: '50' },
    only: { type: 'string' },
  },
});
const reps = Number(values.reps);
const warmup = Number(values.warmup);
const minMs = Number(values['min-ms']);
/** `--only W2,W4`: run the workloads whose row ids start with one of these. */
const only = values.only?.split(',');
const selected = WORKLOADS.filter(
  (w) => only === undefined || w.rows.some((row) => only.some((o) => row.id.startsWith(o))),
);

const machine = {
  cpus: availableParallelism(),
  model: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  /** 1-minute load average before and after the run: the machine may be shared. */
  load: [loadavg()[0]!],
};
const started = new Date();
const log = (text: string) => process.stderr.write(`${text}\n`);
log(`eventkv bench: ${reps} samples (+${warmup} warm-up) of >= ${minMs} ms per cell`);

const rows: RowResult[] = [];
for (const workload of selected) {
  const t0 = performance.now();
  const runs = new Map<string, (Run | undefined)[]>();
  for (const subject of workload.subjects) runs.set(subject.name, await workload.prepare(subject));
  const setup = (performance.now() - t0) / 1000;
  const samples = workload.rows.map(() => new Map<string, number[]>());
  // Subjects take turns, starting one later each round, so drift and noise hit them all.
  for (let round = 0; round < warmup + reps; round++) {
    const n = workload.subjects.length;
    for (let k = 0; k < n; k++) {
      const subject = workload.subjects[(round + k) % n]!;
      const subjectRuns = runs.get(subject.name)!;
      for (let r = 0; r < workload.rows.length; r++) {
        const run = subjectRuns[r];
        if (run === undefined) continue;
        const value = await sample(run, minMs);
        if (round < warmup) continue;
        const list = samples[r]!.get(subject.name) ?? [];
        list.push(value);
        samples[r]!.set(subject.name, list);
      }
    }
  }
  workload.rows.forEach((row, r) => {
    const bySubject = samples[r]!;
    rows.push({
      ...row,
      subjects: workload.subjects.map((s) => s.name),
      medians: Object.fromEntries(
        SUBJECTS.map((s) => [s.name, maybeMedian(bySubject.get(s.name))]),
      ),
      samples: Object.fromEntries(bySubject),
    });
  });
  const ids = workload.rows.map((row) => row.id).join(', ');
  const total = (performance.now() - t0) / 1000;
  log(`  ${ids}: ${total.toFixed(1)} s (setup ${setup.toFixed(1)} s)`);
}

function maybeMedian(values: readonly number[] | undefined): number | undefined {
  return values === undefined || values.length === 0 ? undefined : median(values);
}

const found = ratios(rows);
const checks = targets(rows);
const names = SUBJECTS.map((s) => s.name);
const seconds = (Date.now() - started.getTime()) / 1000;
machine.load.push(loadavg()[0]!);
const load = machine.load.map((l) => l.toFixed(2)).join(' -> ');
console.log(
  `eventkv bench ${started.toISOString()}  ${machine.cpus} CPUs (${machine.model})  ` +
    `Node ${machine.node}  load ${load}`,
);
console.log(`${reps} samples of >= ${minMs} ms after ${warmup} warm-up; medians`);
console.log();
console.log(render(rows, names, found, checks));
console.log();
console.log(`Total ${seconds.toFixed(0)} s`);

if (values.json !== undefined) {
  const report = {
    date: started.toISOString(),
    machine,
    settings: { reps, warmup, minMs },
    seconds,
    rows,
    ratios: found,
    targets: checks,
  };
  // n/a cells are written as null.
  const json = JSON.stringify(report, (_, value: unknown) => value ?? null, 2);
  writeFileSync(values.json, `${json}\n`);
  log(`raw numbers written to ${values.json}`);
}
