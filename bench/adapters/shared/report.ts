import { formatRate } from '../../src/format.js';
import type { AdapterRowResult } from './run.js';

/** `subject` on `row` must reach `goal` times the faster of the `versus` floors. */
export interface TargetSpec {
  readonly row: string;
  readonly subject: string;
  readonly versus: readonly string[];
  readonly goal: number;
}

export interface TargetResult extends TargetSpec {
  /** The floor it was compared with (the faster one in this run). */
  readonly floor: string | undefined;
  readonly ratio: number | undefined;
  readonly pass: boolean;
}

export interface RatioResult {
  readonly row: string;
  readonly subject: string;
  readonly versus: string;
  readonly ratio: number;
}

const formatCell = (value: number | undefined): string =>
  value === undefined ? '-' : formatRate(value);

const table = (header: readonly string[], lines: readonly (readonly string[])[]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(line)].join('\n');
};

/** Every eventkv variant's median over every floor's, from the same run. */
export const adapterRatios = (
  rows: readonly AdapterRowResult[],
  mine: readonly string[],
  floors: readonly string[],
): RatioResult[] =>
  rows.flatMap((row) =>
    mine.flatMap((subject) =>
      floors.flatMap((versus) => {
        const a = row.medians[subject];
        const b = row.medians[versus];
        return a === undefined || b === undefined
          ? []
          : [{ row: row.id, subject, versus, ratio: a / b }];
      }),
    ),
  );

export const checkTargets = (
  rows: readonly AdapterRowResult[],
  specs: readonly TargetSpec[],
): TargetResult[] =>
  specs.map((spec) => {
    const row = rows.find((r) => r.id === spec.row);
    const mine = row?.medians[spec.subject];
    const floors = spec.versus.filter((v) => row?.medians[v] !== undefined);
    const floor = floors.sort((a, b) => row!.medians[b]! - row!.medians[a]!)[0];
    const theirs = floor === undefined ? undefined : row?.medians[floor];
    const ratio = mine === undefined || theirs === undefined ? undefined : mine / theirs;
    return { ...spec, floor, ratio, pass: ratio !== undefined && ratio >= spec.goal };
  });

/** The medians table, the ratio table and one PASS/MISS line per target. */
export const renderAdapter = (
  rows: readonly AdapterRowResult[],
  subjects: readonly string[],
  found: readonly RatioResult[],
  checks: readonly TargetResult[],
): string => {
  const medians = table(
    ['Median throughput', ...subjects],
    rows.map((row) => [
      `${row.id.padEnd(5)}${row.title} (${row.unit})`,
      ...subjects.map((s) => formatCell(row.medians[s])),
    ]),
  );
  const versus = [...new Set(found.map((r) => r.versus))];
  const pairs = [...new Set(found.map((r) => `${r.row}\u0000${r.subject}`))];
  const ratioTable = table(
    ['eventkv / floor', ...versus.map((v) => `vs ${v}`)],
    pairs.map((pair) => {
      const [row, subject] = pair.split('\u0000') as [string, string];
      return [
        `${row.padEnd(5)}${subject}`,
        ...versus.map((v) => {
          const ratio = found.find((r) => r.row === row && r.subject === subject && r.versus === v);
          return ratio === undefined ? '-' : `${ratio.ratio.toPrecision(3)}x`;
        }),
      ];
    }),
  );
  const targetLines = checks.map((t) => {
    const value = t.ratio === undefined ? 'n/a' : `${t.ratio.toFixed(2)}x`;
    const against = t.versus.length > 1 ? `the faster floor (${t.floor ?? 'none'})` : t.versus[0];
    return `${t.pass ? 'PASS' : 'MISS'}  ${t.row} ${t.subject} vs ${against}: ${value} (target >= ${t.goal}x)`;
  });
  return [medians, '', ratioTable, '', 'Targets', ...targetLines].join('\n');
};
