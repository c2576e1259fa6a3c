import { eventkv, eventkvLean } from './eventkv.js';
import { cloneFloor, mapFloor } from './floors.js';
import { formatRate } from './format.js';
import { castore, emmett } from './peers.js';
import type { Row } from './workloads.js';

/** One row's medians by subject name (undefined: the subject lacks or skips the workload). */
export interface RowResult extends Row {
  /** The subjects the workload runs (the others print `-`). */
  readonly subjects: readonly string[];
  readonly medians: Readonly<Record<string, number | undefined>>;
  readonly samples: Readonly<Record<string, readonly number[]>>;
}

export interface Ratio {
  readonly row: string;
  readonly subject: string;
  readonly versus: string;
  readonly ratio: number | undefined;
}

export interface Target {
  readonly name: string;
  readonly value: number | undefined;
  readonly goal: string;
  /** Undefined for a figure printed next to a target without one of its own. */
  readonly pass: boolean | undefined;
}

const VERSUS = [mapFloor.name, cloneFloor.name, emmett.name, castore.name];
const EVENTKV = [eventkv.name, eventkvLean.name];

/** `-`: not run there (an eventkv variant, or a store the workload leaves out); `n/a`: the store lacks the operation. */
const formatCell = (row: RowResult, subject: string): string => {
  const value = row.medians[subject];
  if (value !== undefined) return formatRate(value);
  return EVENTKV.includes(subject) || !row.subjects.includes(subject) ? '-' : 'n/a';
};

const formatRatio = (value: number | undefined): string =>
  value === undefined ? 'n/a' : `${value >= 100 ? value.toFixed(0) : value.toPrecision(3)}x`;

const table = (header: readonly string[], lines: readonly (readonly string[])[]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(line)].join('\n');
};

const rowLabel = (row: Row) => `${row.id.padEnd(10)}${row.title} (${row.unit})`;

/** eventkv's median divided by each reference's, from the same run. */
export const ratios = (rows: readonly RowResult[]): Ratio[] =>
  rows.flatMap((row) =>
    EVENTKV.filter((subject) => row.medians[subject] !== undefined).flatMap((subject) =>
      VERSUS.map((versus) => {
        const mine = row.medians[subject];
        const theirs = row.medians[versus];
        return {
          row: row.id,
          subject,
          versus,
          ratio: mine === undefined || theirs === undefined ? undefined : mine / theirs,
        };
      }),
    ),
  );

export const targets = (rows: readonly RowResult[]): Target[] => {
  const median = (id: string, subject: string) => rows.find((r) => r.id === id)?.medians[subject];
  const ratio = (id: string, subject: string, versus: string) => {
    const mine = median(id, subject);
    const theirs = median(id, versus);
    return mine === undefined || theirs === undefined ? undefined : mine / theirs;
  };
  const atLeast = (name: string, value: number | undefined, goal: number): Target => ({
    name,
    value,
    goal: `>= ${goal}x`,
    pass: value !== undefined && value >= goal,
  });
  const out: Target[] = [];
  // The append target is judged on the settings that do the floors' and the peers' work:
  // events, idempotency entries and the head, without the global log and the four
  // indexes (README, "Targets"). The defaults' figure follows it, without a target.
  for (const id of ['W1a', 'W1b']) {
    out.push(
      atLeast(
        `${id} vs Map+clone (${eventkvLean.name})`,
        ratio(id, eventkvLean.name, cloneFloor.name),
        0.5,
      ),
    );
    out.push({
      name: `${id} vs Map+clone (${eventkv.name}: + global log and 4 index entries per event)`,
      value: ratio(id, eventkv.name, cloneFloor.name),
      goal: 'none',
      pass: undefined,
    });
  }
  for (const id of ['W2a', 'W2b']) {
    out.push(atLeast(`${id} vs Map+clone`, ratio(id, eventkv.name, cloneFloor.name), 5));
  }
  // Ops/s of the small stream over ops/s of the big one = time per call, big over small.
  const small = median('W4 10', eventkv.name);
  const big = median('W4 100k', eventkv.name);
  const w4 = small === undefined || big === undefined ? undefined : small / big;
  out.push({
    name: 'W4 version() time per call, 100k-event vs 10-event stream',
    value: w4,
    goal: '<= 1.5x',
    pass: w4 !== undefined && w4 <= 1.5,
  });
  const replay = median('W5 replay', eventkv.name);
  const load = median('W5 load', eventkv.name);
  const faster = replay === undefined || load === undefined ? undefined : (1 - replay / load) * 100;
  out.push({
    name: 'W5 load() faster than replay',
    value: faster,
    goal: '>= 99%',
    pass: faster !== undefined && faster >= 99,
  });
  // Flat in the number of streams: the rate over 10,000 streams over the rate on 1.
  const flat = (id: string, what: string, subject: string, goal: boolean): Target => {
    const one = median(`${id} 1`, subject);
    const many = median(`${id} 10k`, subject);
    const value = one === undefined || many === undefined ? undefined : many / one;
    const name = `${id} ${what}, 10k streams vs 1 stream (${subject})`;
    return goal ? atLeast(name, value, 0.67) : { name, value, goal: 'none', pass: undefined };
  };
  out.push(flat('W6a', 'appends/s', eventkv.name, true));
  out.push(flat('W6a', 'appends/s', eventkvLean.name, false));
  out.push(flat('W6b', 'version()/s', eventkv.name, true));
  return out;
};

export const render = (
  rows: readonly RowResult[],
  subjects: readonly string[],
  found: readonly Ratio[],
  checks: readonly Target[],
): string => {
  const medians = table(
    ['Median throughput', ...subjects],
    rows.map((row) => [rowLabel(row), ...subjects.map((s) => formatCell(row, s))]),
  );
  // Rows no reference has (W5 load) are left out: the W5 target compares them.
  const ratioLines = rows.flatMap((row) =>
    EVENTKV.map((subject) => ({
      subject,
      mine: found.filter((r) => r.row === row.id && r.subject === subject),
    }))
      .filter(({ mine }) => mine.some((r) => r.ratio !== undefined))
      .map(({ subject, mine }) => [
        `${row.id.padEnd(10)}${subject}`,
        ...VERSUS.map((versus) => formatRatio(mine.find((r) => r.versus === versus)?.ratio)),
      ]),
  );
  const ratioTable = table(['eventkv / reference', ...VERSUS.map((v) => `vs ${v}`)], ratioLines);
  const targetLines = checks.map((t) => {
    const value =
      t.value === undefined
        ? 'n/a'
        : t.goal.endsWith('%')
          ? `${t.value.toFixed(2)}%`
          : `${t.value.toFixed(2)}x`;
    if (t.value === undefined) return `----  ${t.name}: not measured in this run`;
    if (t.pass === undefined) return `      ${t.name}: ${value}`;
    return `${t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${value} (target ${t.goal})`;
  });
  return [medians, '', ratioTable, '', 'Targets', ...targetLines].join('\n');
};
