import { median } from '../../src/measure.js';

/** The timed rounds of one subject: milliseconds per round, and the units (events) each did. */
export interface Timings {
  readonly ms: readonly number[];
  readonly units: number;
}

export interface Summary {
  /** Microseconds per event: the median round, the fastest and the slowest. */
  readonly usPerEvent: { readonly median: number; readonly min: number; readonly max: number };
  readonly eventsPerSecond: number;
}

export const summarize = ({ ms, units }: Timings): Summary => {
  const us = ms.map((m) => (m * 1000) / units);
  const mid = median(us);
  return {
    usPerEvent: { median: mid, min: Math.min(...us), max: Math.max(...us) },
    eventsPerSecond: 1e6 / mid,
  };
};

/**
 * floor / eventkv in time per event (1.0: as fast as the floor; 0.5: twice the floor's
 * time): of the medians, and the lowest and highest of the rounds' own pairs (each round
 * times both subjects back to back).
 */
export const ratioOf = (
  eventkv: Timings,
  floor: Timings,
): { readonly median: number; readonly min: number; readonly max: number } => {
  const pairs = eventkv.ms.map(
    (m, i) => ((floor.ms[i] as number) / floor.units / (m / eventkv.units)) as number,
  );
  return {
    median: summarize(floor).usPerEvent.median / summarize(eventkv).usPerEvent.median,
    min: Math.min(...pairs),
    max: Math.max(...pairs),
  };
};

/** A text table: the first column left-aligned, the others right-aligned. */
export const table = (header: readonly string[], lines: readonly (readonly string[])[]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(line)].join('\n');
};

const us = (value: number): string =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);

/** `12.3 (10.1-15.2)`: a median and its spread, in microseconds per event. */
export const formatUs = (s: Summary): string =>
  `${us(s.usPerEvent.median)} (${us(s.usPerEvent.min)}-${us(s.usPerEvent.max)})`;

export const formatRatio = (r: ReturnType<typeof ratioOf>): string =>
  `${r.median.toFixed(2)}x (${r.min.toFixed(2)}-${r.max.toFixed(2)})`;
