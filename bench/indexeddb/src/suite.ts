import { expect, median, type Run, sample } from '../../src/measure.js';
import { type BenchStore, makeDeposits } from '../../src/subject.js';
import { type Backend, eventkv, eventkvLean, type IdbSubject, idbFloor } from './subjects.js';

/**
 * The core bench's workloads (bench/src/workloads.ts), scaled down: IndexedDB commits cost
 * milliseconds, not microseconds. Same event, same expected-version appends, same reads.
 */
export const SIZES = { appends: 500, batched: 2_000, streams: 200, perStream: 10 } as const;

export interface Row {
  readonly id: string;
  readonly title: string;
  readonly unit: 'events/s' | 'ops/s';
  /** Subject name -> median throughput. */
  readonly results: Record<string, number>;
}

export interface SuiteOptions {
  readonly reps: number;
  readonly minMs: number;
  readonly log?: (line: string) => void;
}

const SUBJECTS: readonly IdbSubject[] = [eventkv, eventkvLean, idbFloor];
const READERS: readonly IdbSubject[] = [eventkv, idbFloor];

const seed = async (store: BenchStore, streams: readonly (readonly [string, number])[]) => {
  for (const [stream, count] of streams) {
    for (let done = 0; done < count; done += 100) {
      await store.append(stream, makeDeposits(Math.min(100, count - done), done), done);
    }
  }
  return store;
};

export const runSuite = async (backend: Backend, options: SuiteOptions): Promise<Row[]> => {
  const measure = async (run: Run) => {
    await sample(run, 0); // warm-up, not counted
    const samples: number[] = [];
    for (let i = 0; i < options.reps; i++) samples.push(await sample(run, options.minMs));
    return median(samples);
  };
  const rows: Row[] = [];
  const row = async (
    id: string,
    title: string,
    unit: Row['unit'],
    subjects: readonly IdbSubject[],
    prepare: (subject: IdbSubject) => Promise<Run>,
  ) => {
    const results: Record<string, number> = {};
    for (const subject of subjects) {
      results[subject.name] = await measure(await prepare(subject));
      options.log?.(`${backend.label} ${id} ${subject.name}: ${results[subject.name]?.toFixed(0)}`);
    }
    rows.push({ id, title, unit, results });
  };

  const deposits = makeDeposits(SIZES.batched);
  const appendAll = (subject: IdbSubject, total: number, batch: number) => async () => {
    const store = await subject.create(backend);
    for (let v = 0; v < total; v += batch) {
      await store.append('acc-1', deposits.slice(v, v + batch), v);
    }
    expect(`${subject.name} version`, await store.version('acc-1'), total);
    return total;
  };
  await row('W1a', `append ${SIZES.appends}, one per call`, 'events/s', SUBJECTS, async (s) =>
    appendAll(s, SIZES.appends, 1),
  );
  await row('W1b', `append ${SIZES.batched}, batches of 100`, 'events/s', SUBJECTS, async (s) =>
    appendAll(s, SIZES.batched, 100),
  );

  await row('W2a', `read ${SIZES.batched}-event stream`, 'events/s', READERS, async (s) => {
    const store = await seed(await s.create(backend), [['acc-1', SIZES.batched]]);
    return async () => {
      expect(`${s.name} read`, await store.read('acc-1'), SIZES.batched);
      return SIZES.batched;
    };
  });
  await row('W2b', 'read 100-event slice (x10)', 'events/s', READERS, async (s) => {
    const store = await seed(await s.create(backend), [['acc-1', SIZES.batched]]);
    return async () => {
      for (let i = 0; i < 10; i++)
        expect(`${s.name} slice`, await store.read('acc-1', 951, 1050), 100);
      return 1000;
    };
  });
  const ids = Array.from({ length: SIZES.streams }, (_, i) => `acc-${i}`);
  await row('W3b', `read each of ${SIZES.streams} streams`, 'events/s', READERS, async (s) => {
    const store = await seed(
      await s.create(backend),
      ids.map((id) => [id, SIZES.perStream] as const),
    );
    return async () => {
      for (const id of ids) expect(`${s.name} read`, await store.read(id), SIZES.perStream);
      return SIZES.streams * SIZES.perStream;
    };
  });
  // The floor's version() is one raw point read of the head record.
  await row('W4', 'version() of a 10-event stream (x100)', 'ops/s', READERS, async (s) => {
    const store = await seed(await s.create(backend), [['small', SIZES.perStream]]);
    return async () => {
      for (let i = 0; i < 100; i++) expect(`${s.name} version`, await store.version('small'), 10);
      return 100;
    };
  });
  return rows;
};

const TARGETS: readonly [string, string, number][] = [
  ['W1a', 'eventkv lean', 0.75],
  ['W1b', 'eventkv lean', 0.75],
  ['W1a', 'eventkv', 0.5],
  ['W1b', 'eventkv', 0.5],
  ['W2a', 'eventkv', 0.8],
  ['W2b', 'eventkv', 0.8],
  ['W3b', 'eventkv', 0.8],
  ['W4', 'eventkv', 0.8],
];

const fmt = (n: number | undefined): string => {
  if (n === undefined) return '-';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
};

/** The results table, ratios against the floor, and the targets. */
export const report = (label: string, rows: readonly Row[]): string => {
  const names = SUBJECTS.map((s) => s.name);
  const lines = [`${label}: median throughput`, ''];
  const head = ['', 'workload', ...names, 'eventkv / floor', 'lean / floor'];
  const table = rows.map((r) => [
    r.id,
    `${r.title} (${r.unit})`,
    ...names.map((n) => fmt(r.results[n])),
    ratio(r, 'eventkv'),
    ratio(r, 'eventkv lean'),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => (t[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  lines.push(line(head), widths.map((w) => '-'.repeat(w)).join('  '));
  for (const t of table) lines.push(line(t));
  lines.push('', 'Targets');
  for (const [id, subject, target] of TARGETS) {
    const r = rows.find((row) => row.id === id);
    const value = r && (r.results[subject] ?? 0) / (r.results['idb floor'] ?? 1);
    if (value === undefined) continue;
    lines.push(
      `${value >= target ? 'PASS' : 'MISS'}  ${id} ${subject} vs idb floor: ${value.toFixed(2)}x (target >= ${target}x)`,
    );
  }
  return lines.join('\n');
};

const ratio = (r: Row, subject: string): string => {
  const value = r.results[subject];
  const floor = r.results['idb floor'];
  return value === undefined || floor === undefined ? '-' : `${(value / floor).toFixed(2)}x`;
};
