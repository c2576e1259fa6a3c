/**
 * `pnpm bench:durable-object-profile`: where an append's CPU goes inside workerd. Starts the
 * Durable Object bench's Worker (`worker.ts`) with workerd's inspector on, prepares W1 for
 * each `--subjects` (default: eventkv, eventkv lean, sync kv), and for each records a CPU
 * profile over `--seconds` of W1a requests (`--row 1`: W1b; `--workload W2`: W2a, with
 * `--row 1` W2b; `--workload W4`: W4). Prints, per subject, busy microseconds per unit (an
 * event, or a `version()` call) and the samples by part: each sample goes to the innermost
 * frame of the bundle on its stack (core's append split into prepare, plan and the rest;
 * the adapter by file), and a sample in a native function (a storage call, JSON) to that
 * function, named with the part that called it. `--out` writes the profiles (open them in
 * Chrome DevTools). Sampling slows workerd down: compare shares and subjects of one run,
 * not absolute times, with `bench:durable-object`.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { positiveInt } from '../shared/cli.js';
import { moduleOfLine, type Profile, profileWhile } from '../shared/inspector.js';
import { benchWorker, startWorkerd } from '../shared/workerd.js';
import type { Sizes } from '../shared/workloads.js';
import { table } from '../sync/stats.js';

const { values } = parseArgs({
  options: {
    subjects: { type: 'string', default: 'eventkv,eventkv lean,sync kv' },
    workload: { type: 'string', default: 'W1' },
    row: { type: 'string', default: '0' },
    seconds: { type: 'string', default: '8' },
    interval: { type: 'string', default: '50' },
    top: { type: 'string', default: '25' },
    out: { type: 'string' },
  },
});
const SUBJECTS = (values.subjects as string).split(',');
/** The bench's workloads by name: their index in `adapterWorkloads`, and how many rows. */
const WORKLOADS: Record<string, { index: number; rows: number }> = {
  W1: { index: 0, rows: 2 },
  W2: { index: 1, rows: 2 },
  W4: { index: 3, rows: 1 },
};
const WORKLOAD = WORKLOADS[values.workload as string];
if (WORKLOAD === undefined) throw new Error('--workload must be W1, W2 or W4');
const ROW = Number(values.row);
if (!Number.isInteger(ROW) || ROW < 0 || ROW >= WORKLOAD.rows) {
  throw new Error(`--row must be 0${WORKLOAD.rows > 1 ? ' or 1' : ''} for ${values.workload}`);
}
const UNIT = values.workload === 'W4' ? 'call' : 'event';
const SECONDS = positiveInt('seconds', values.seconds);
const INTERVAL = positiveInt('interval', values.interval);
const TOP = positiveInt('top', values.top);
/** As `bench:durable-object`. */
const SIZES: Sizes = {
  appendOne: 1_000,
  appendBatch: 2_000,
  readStream: 10_000,
  streams: 1_000,
  repeat: 100,
};
const NAME = 'bench';

const workerd = await startWorkerd(
  [
    {
      name: NAME,
      entry: benchWorker('durable-object/worker.ts'),
      durableObjects: { BENCH: 'BenchObject' },
    },
  ],
  { inspect: true },
);
const call = async (path: string, params: Record<string, string | number>): Promise<number> => {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const response = await fetch(new URL(`${path}?${query}`, workerd.url(NAME)));
  const body = (await response.json()) as number | { error: string };
  if (typeof body !== 'number') throw new Error(`${path} ${query}: ${body.error}`);
  return body;
};
const fileAt = moduleOfLine(workerd.script(NAME));

/** The part of the store a bundle frame belongs to. */
const partOf = (file: string, name: string): string => {
  if (/core\/src\/append\.ts$/.test(file)) {
    if (name === 'prepareAppend' || name === 'prepareEvent' || name === 'nameAt')
      return 'core: prepare (validation, payload)';
    if (name === 'appendEvents') return 'core: appendEvents';
    return 'core: plan (state, record, index keys)';
  }
  if (/core\/src\/(encode|payload|char-bytes)\.ts$/.test(file))
    return 'core: payload (encode, size, seal)';
  if (/core\/src\/ids\.ts$/.test(file)) return 'core: message id';
  if (/core\/src\/(stream|store)\.ts$/.test(file)) return 'core: stream handle, store';
  if (/core\/src\//.test(file)) return `core: other (${file.replace(/.*core\/src\//, '')})`;
  if (/durable-object\/src\/kv\//.test(file))
    return `adapter: ${file.replace(/.*durable-object\/src\/kv\//, '')}`;
  if (/bench\//.test(file)) return 'bench harness';
  return file;
};

const summarize = (subject: string, profile: Profile, events: number) => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const label = new Map<number, { part: string; fn: string }>();
  const labelOf = (id: number) => {
    const known = label.get(id);
    if (known !== undefined) return known;
    const leaf = byId.get(id) as Profile['nodes'][number];
    let found: { part: string; fn: string } | undefined;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url, lineNumber } = (byId.get(at) as Profile['nodes'][number])
        .callFrame;
      if (url === '' || url.startsWith('node:')) continue;
      const file = fileAt(lineNumber);
      found = {
        part: partOf(file, functionName),
        // An arrow function esbuild wrapped in `__name` has no name in V8: its bundle line says which.
        fn: `${functionName || `(anonymous, bundle line ${lineNumber + 1})`} ${file.replace(/^.*\/src\//, '')}`,
      };
      break;
    }
    const leafFrame = leaf.callFrame;
    const native = leafFrame.url === '' || leafFrame.url.startsWith('node:');
    const leafName = leafFrame.functionName || '(anonymous)';
    const result =
      leafName === '(idle)'
        ? { part: 'idle', fn: '(idle)' }
        : native
          ? {
              part: `native ${leafName}${found ? ` <- ${found.part}` : ''}`,
              fn: `native ${leafName}${found ? ` <- ${found.fn}` : ''}`,
            }
          : (found ?? { part: leafName, fn: leafName });
    label.set(id, result);
    return result;
  };
  const parts = new Map<string, number>();
  const functions = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number) =>
    map.set(key, (map.get(key) ?? 0) + us);
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const { part, fn } = labelOf(id);
    if (part === 'idle') return;
    busy += us;
    add(parts, part, us);
    add(functions, fn, us);
  });
  const rows = (map: Map<string, number>, top: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, us]) => [key, (us / events).toFixed(1), `${((100 * us) / busy).toFixed(1)}%`]);
  console.log(
    `${subject}: ${events} ${UNIT}s in ${SECONDS} s, sampled every ${INTERVAL} µs: ${(busy / events).toFixed(0)} µs busy per ${UNIT}`,
  );
  console.log();
  console.log(table([`${subject}: samples by part`, `µs/${UNIT}`, 'of busy'], rows(parts, 40)));
  console.log();
  console.log(table([`${subject}: by function`, `µs/${UNIT}`, 'of busy'], rows(functions, TOP)));
  console.log();
};

try {
  const started = Date.now();
  for (const [index, subject] of SUBJECTS.entries()) {
    const object = `p${index}-${started}`;
    await call('/prepare', {
      object,
      sizes: JSON.stringify(SIZES),
      workload: WORKLOAD.index,
      subject,
    });
    // Warm-up, untimed and unsampled.
    for (let i = 0; i < 3; i++) await call('/run', { object, subject, row: ROW, times: 1 });
    const { profile, result: events } = await profileWhile(
      workerd.inspector as URL,
      NAME,
      INTERVAL,
      async () => {
        let done = 0;
        for (const t0 = Date.now(); Date.now() - t0 < SECONDS * 1000; ) {
          done += await call('/run', { object, subject, row: ROW, times: 1 });
        }
        return done;
      },
    );
    if (values.out !== undefined) {
      writeFileSync(
        `${values.out}-${subject.replace(/\W+/g, '-')}.cpuprofile`,
        JSON.stringify(profile),
      );
    }
    summarize(subject, profile, events);
  }
} finally {
  await workerd.dispose();
}
