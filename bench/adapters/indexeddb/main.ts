/**
 * `pnpm bench:indexeddb`: the IndexedDB adapter beside a raw `idb` floor, first on
 * fake-indexeddb in Node, then in headless Chromium. `--env node` or `--env chromium`
 * runs one of them.
 */
import 'fake-indexeddb/auto';
import { header, machine, parseCli, writeJson } from '../shared/cli.js';
import { renderAdapter } from '../shared/report.js';
import type { Sizes } from '../shared/workloads.js';
import { type IndexedDbBenchResult, runIndexedDbBench } from './bench.js';
import { runInChromium } from './chromium.js';
import type { Durability } from './subjects.js';

/**
 * fake-indexeddb is pure JavaScript and much slower than memory: W1a is cut to 1,000
 * events, W1b to 5,000 and W3b to 500 streams, so the Node half stays near a minute.
 */
const NODE_SIZES: Sizes = {
  appendOne: 1_000,
  appendBatch: 5_000,
  readStream: 10_000,
  streams: 500,
  repeat: 100,
};
/**
 * Real IndexedDB pays a commit per transaction (a few ms here): W1a is cut to 500 events,
 * W1b to 2,000, the W2 stream to 5,000 events, W3b to 200 streams, and W2b/W4 make 20
 * calls per timed call.
 */
const CHROMIUM_SIZES: Sizes = {
  appendOne: 500,
  appendBatch: 2_000,
  readStream: 5_000,
  streams: 200,
  repeat: 20,
};

const { settings, plain, json, extra } = parseCli({ reps: 3, warmup: 1, minMs: 50 }, [
  'env',
  'durability',
]);
const env = extra.env ?? 'both';
const durability = (extra.durability ?? 'relaxed') as Durability;
const { log } = settings;
const started = new Date();
const load = machine().load;
const results: Record<string, IndexedDbBenchResult & { sizes: Sizes }> = {};

const print = (title: string, result: IndexedDbBenchResult, note: string) => {
  console.log(header(title, started, load));
  console.log(
    `${settings.reps} samples of >= ${settings.minMs} ms after ${settings.warmup} warm-up; medians; ${note}`,
  );
  console.log();
  console.log(renderAdapter(result.rows, result.subjects, result.ratios, result.targets));
  console.log();
};

if (env === 'both' || env === 'node') {
  log('IndexedDB on fake-indexeddb (Node)');
  const result = await runIndexedDbBench({ sizes: NODE_SIZES, durability, settings });
  results.node = { ...result, sizes: NODE_SIZES };
  print('eventkv IndexedDB bench, fake-indexeddb in Node,', result, `durability ${durability}`);
}
if (env === 'both' || env === 'chromium') {
  log('IndexedDB in headless Chromium');
  const result = await runInChromium({ sizes: CHROMIUM_SIZES, durability, settings: plain }, log);
  results.chromium = { ...result, sizes: CHROMIUM_SIZES };
  print(`eventkv IndexedDB bench, ${result.browser},`, result, `durability ${durability}`);
}
const seconds = (Date.now() - started.getTime()) / 1000;
console.log(`Total ${seconds.toFixed(0)} s`);
if (json !== undefined) {
  writeJson(json, {
    date: started.toISOString(),
    machine: machine(),
    settings: { ...plain, durability },
    seconds,
    results,
  });
}
