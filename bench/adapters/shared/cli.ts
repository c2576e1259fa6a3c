import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { RunSettings } from './run.js';

export interface CliOptions {
  readonly settings: RunSettings & { readonly log: (text: string) => void };
  /** The settings as plain data (no functions), for a page or a JSON report. */
  readonly plain: Omit<RunSettings, 'log' | 'sampler'>;
  readonly json: string | undefined;
  /** Extra string options a runner declared, by name. */
  readonly extra: Readonly<Record<string, string | undefined>>;
}

/**
 * The options every adapter bench takes (`--json`, `--reps`, `--warmup`, `--min-ms`,
 * `--only`), with per-bench defaults, plus the runner's own string options.
 */
export const parseCli = (
  defaults: { reps: number; warmup: number; minMs: number },
  extra: readonly string[] = [],
): CliOptions => {
  const { values } = parseArgs({
    options: {
      json: { type: 'string' },
      reps: { type: 'string', default: String(defaults.reps) },
      warmup: { type: 'string', default: String(defaults.warmup) },
      'min-ms': { type: 'string', default: String(defaults.minMs) },
      only: { type: 'string' },
      ...Object.fromEntries(extra.map((name) => [name, { type: 'string' as const }])),
    },
  });
  const read = (name: string) => (values as Record<string, string | undefined>)[name];
  const only = values.only?.split(',');
  const plain = {
    reps: Number(values.reps),
    warmup: Number(values.warmup),
    minMs: Number(values['min-ms']),
    ...(only === undefined ? {} : { only }),
  };
  return {
    settings: { ...plain, log: (text: string) => void process.stderr.write(`${text}\n`) },
    plain,
    json: values.json,
    extra: Object.fromEntries(extra.map((name) => [name, read(name)])),
  };
};

export const machine = () => ({
  cpus: availableParallelism(),
  model: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  load: loadavg()[0]!,
});

export const header = (title: string, started: Date, loadBefore: number): string => {
  const m = machine();
  return (
    `${title} ${started.toISOString()}  ${m.cpus} CPUs (${m.model})  Node ${m.node}  ` +
    `load ${loadBefore.toFixed(2)} -> ${m.load.toFixed(2)}`
  );
};

/** Writes the raw numbers as JSON (undefined cells as null). */
export const writeJson = (file: string, report: unknown): void => {
  writeFileSync(file, `${JSON.stringify(report, (_, v: unknown) => v ?? null, 2)}\n`);
  process.stderr.write(`raw numbers written to ${file}\n`);
};

/** wrangler's log level for the benchmarks' local Worker: `BENCH_WRANGLER_LOG`, else warn. */
export const wranglerLogLevel = (): 'none' | 'error' | 'warn' | 'info' | 'log' | 'debug' => {
  const level = process.env.BENCH_WRANGLER_LOG;
  return level === 'none' ||
    level === 'error' ||
    level === 'info' ||
    level === 'log' ||
    level === 'debug'
    ? level
    : 'warn';
};

/** A flag's value as a positive integer, or a clear error naming the flag. */
export const positiveInt = (name: string, value: string | undefined): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
};
