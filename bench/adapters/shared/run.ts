import { median, type Run, sample } from '../../src/measure.js';
import type { AdapterSubject } from './subject.js';
import type { AdapterRow, AdapterWorkload } from './workloads.js';

export interface AdapterRowResult extends AdapterRow {
  /** Median by subject name (absent: the subject does not run this workload). */
  readonly medians: Readonly<Record<string, number>>;
  readonly samples: Readonly<Record<string, readonly number[]>>;
}

export interface RunSettings {
  readonly reps: number;
  readonly warmup: number;
  readonly minMs: number;
  /** `['W2', 'W4']`: only the workloads with a row id starting like that. */
  readonly only?: readonly string[];
  /** Takes one sample of a run, in units per second (default: `sample` of the core bench). */
  readonly sampler?: (run: Run, minMs: number) => Promise<number>;
  readonly log?: (text: string) => void;
}

/**
 * Runs each workload on each subject that takes part: setup untimed, then `warmup` rounds
 * and `reps` counted rounds, the subjects taking turns and starting one later each round
 * so drift and background load hit them all alike. Environment-neutral (Node or a page).
 */
export const runAdapterBench = async (
  workloads: readonly AdapterWorkload[],
  subjects: readonly AdapterSubject[],
  settings: RunSettings,
): Promise<AdapterRowResult[]> => {
  const { reps, warmup, minMs, only, sampler = sample, log = () => {} } = settings;
  const rows: AdapterRowResult[] = [];
  for (const workload of workloads) {
    if (only !== undefined && !workload.rows.some((r) => only.some((o) => r.id.startsWith(o)))) {
      continue;
    }
    const t0 = performance.now();
    const taking = subjects.filter((s) => workload.roles.includes(s.role));
    const prepared = [];
    for (const subject of taking) prepared.push(await workload.prepare(subject));
    const setup = (performance.now() - t0) / 1000;
    const samples = workload.rows.map(() => new Map<string, number[]>());
    for (let round = 0; round < warmup + reps; round++) {
      for (let i = 0; i < taking.length; i++) {
        const at = (round + i) % taking.length;
        const subject = taking[at]!;
        const { runs } = prepared[at]!;
        for (let r = 0; r < runs.length; r++) {
          const value = await sampler(runs[r]!, minMs);
          if (round < warmup) continue;
          const list = samples[r]!.get(subject.name) ?? [];
          list.push(value);
          samples[r]!.set(subject.name, list);
        }
      }
    }
    for (const { dispose } of prepared) await dispose();
    workload.rows.forEach((row, r) => {
      const bySubject = samples[r]!;
      rows.push({
        ...row,
        medians: Object.fromEntries([...bySubject].map(([name, list]) => [name, median(list)])),
        samples: Object.fromEntries(bySubject),
      });
    });
    const ids = workload.rows.map((row) => row.id).join(', ');
    const total = (performance.now() - t0) / 1000;
    log(`  ${ids}: ${total.toFixed(1)} s (setup ${setup.toFixed(1)} s)`);
  }
  return rows;
};
