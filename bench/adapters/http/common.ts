/**
 * What the benches over the Worker's HTTP API (`bench:http`, `bench:feed`) share: their
 * run settings, a failed answer's error, and the statistics and footer of their report.
 */
import { median } from '../../src/measure.js';
import { type CliOptions, machine, positiveInt, writeJson } from '../shared/cli.js';
import type { Answer } from './client.js';

/** `--reps`, `--warmup`, `--min-ms` and `--concurrency` (default 16 clients), checked. */
export const httpRunSettings = (cli: CliOptions) => {
  const warmup = cli.plain.warmup;
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error('--warmup must be 0 or more');
  return {
    reps: positiveInt('reps', String(cli.plain.reps)),
    warmup,
    minMs: positiveInt('min-ms', String(cli.plain.minMs)),
    concurrency: positiveInt('concurrency', cli.extra.concurrency ?? '16'),
  };
};

/** Fails the run on an answer it did not expect. */
export const wrong = (what: string, answer: Answer): never => {
  throw new Error(`${what}: ${answer.status} ${answer.text.slice(0, 200)}`);
};

/** The `p`th percentile (nearest rank) of `sorted`. */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

/** A ratio, `1.23x`. */
export const x = (value: number): string => `${value.toFixed(2)}x`;

/** `median [lowest, highest]`. */
export const spread = (values: readonly number[], format: (v: number) => string): string =>
  `${format(median(values))} [${format(Math.min(...values))}, ${format(Math.max(...values))}]`;

/**
 * The end of a run: its total time, and with `--json` the report (`date`, `machine`, the
 * run's `settings` and `seconds`, then the bench's own `results`).
 */
export const finishRun = (
  json: string | undefined,
  started: Date,
  settings: Record<string, unknown>,
  results: Record<string, unknown>,
): void => {
  const seconds = (Date.now() - started.getTime()) / 1000;
  console.log();
  console.log(`Total ${seconds.toFixed(0)} s`);
  if (json !== undefined) {
    writeJson(json, {
      date: started.toISOString(),
      machine: machine(),
      settings,
      seconds,
      ...results,
    });
  }
};
