/**
 * `pnpm bench:sync`: the sync engine against floors measured in the same run.
 *
 * - push: a replica holding pending events syncs once over HTTP to apps/worker in local
 *   workerd (`--routing`: `database` by default, or `stream`, the Worker's own default),
 *   against plain batched appends through the same Worker;
 * - pull: a fresh replica on IndexedDB (headless Chromium; `--env node`: fake-indexeddb)
 *   pulls an edge's log, against paged `readLog` reads and plain IndexedDB puts.
 *
 * `--only push` or `--only pull` runs one of them; sizes are flags (defaults below).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startLocalWorker } from '../../../apps/worker/scripts/local-dev.mjs';
import { header, machine, positiveInt, wranglerLogLevel, writeJson } from '../shared/cli.js';
import { runPullInChromium } from './chromium.js';
import { type Durability, PULL_PAGE, type PullResult, type PullSizes } from './pull.js';
import { type PushResult, type PushSizes, runPushBench } from './push.js';
import { formatRatio, formatUs, ratioOf, summarize, type Timings, table } from './stats.js';

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    only: { type: 'string' },
    reps: { type: 'string', default: '5' },
    'pull-reps': { type: 'string' },
    env: { type: 'string', default: 'chromium' },
    durability: { type: 'string', default: 'relaxed' },
    'push-streams': { type: 'string', default: '100' },
    'push-per-stream': { type: 'string', default: '100' },
    'push-append': { type: 'string', default: '1' },
    'pull-events': { type: 'string', default: '100000' },
    'pull-streams': { type: 'string', default: '1000' },
    'pull-append': { type: 'string', default: '100' },
    'pull-lean': { type: 'boolean', default: false },
    routing: { type: 'string', default: 'database' },
  },
});
const routing = values.routing;
if (routing !== 'database' && routing !== 'stream') {
  throw new Error("--routing must be 'database' or 'stream'");
}
const positive = positiveInt;
const reps = positive('reps', values.reps);
const pullReps = positive('pull-reps', values['pull-reps'] ?? '3');
const only = (values.only ?? 'push,pull').split(',');
const env = values.env;
if (env !== 'chromium' && env !== 'node') throw new Error("--env must be 'chromium' or 'node'");
const durability = values.durability as Durability;
if (durability !== 'relaxed' && durability !== 'strict') {
  throw new Error("--durability must be 'relaxed' or 'strict'");
}
const pushSizes: PushSizes = {
  streams: positive('push-streams', values['push-streams']),
  perStream: positive('push-per-stream', values['push-per-stream']),
  appendSize: positive('push-append', values['push-append']),
};
const pullSizes: PullSizes = {
  events: positive('pull-events', values['pull-events']),
  streams: positive('pull-streams', values['pull-streams']),
  appendSize: positive('pull-append', values['pull-append']),
};

/** A local-only secret: the Worker is started with it and nothing else can reach it. */
const SECRET = 'bench-secret-local-only-0123456789abcdef';
const log = (text: string) => void process.stderr.write(`${text}\n`);
const started = new Date();
const load = machine().load;

let push: PushResult | undefined;
let pull: (PullResult & { browser: string }) | undefined;

if (only.includes('push')) {
  log(`push: starting apps/worker in local workerd (ROUTING=${routing})`);
  const worker = await startLocalWorker({
    // Resolved from the bundled runner in bench/dist/ (the default is relative to the module).
    config: fileURLToPath(new URL('../../apps/worker/wrangler.jsonc', import.meta.url)),
    vars: { AUTH_SECRET: SECRET, RATE_LIMIT_PER_MINUTE: '0', ROUTING: routing },
    logLevel: wranglerLogLevel(),
  });
  try {
    push = await runPushBench({ url: worker.url, secret: SECRET }, pushSizes, reps, log);
  } finally {
    await worker.dispose();
  }
}
if (only.includes('pull')) {
  const input = { sizes: pullSizes, reps: pullReps, durability, lean: values['pull-lean'] };
  if (env === 'chromium') {
    log('pull: IndexedDB in headless Chromium');
    pull = await runPullInChromium(input, log);
  } else {
    log('pull: fake-indexeddb in Node');
    const { runPullBench } = await import('./node.js');
    pull = { ...(await runPullBench(input, log)), browser: 'fake-indexeddb in Node' };
  }
}

const row = (title: string, mine: Timings, floor: Timings) => [
  title,
  formatUs(summarize(mine)),
  formatUs(summarize(floor)),
  formatRatio(ratioOf(mine, floor)),
];
const rows: string[][] = [];
if (push) {
  const n = push.eventkv.units;
  rows.push(
    row(`push ${n} events, ${pushSizes.streams} streams: syncNow`, push.eventkv, push.floor),
    row('  its push part (before the first pull)', push.eventkvPush, push.floor),
  );
}
if (pull) {
  const n = pull.eventkv.units;
  rows.push(
    row(`pull ${n} events, ${pullSizes.streams} streams: syncNow`, pull.eventkv, pull.floor),
  );
  if (pull.eventkvLean) {
    rows.push(row('  the same, replica with indexes: false', pull.eventkvLean, pull.floor));
  }
}

console.log(header('eventkv sync bench', started, load));
if (push) {
  const { streams, perStream, appendSize } = pushSizes;
  console.log(
    [
      `push: HTTP to apps/worker in local workerd (ROUTING=${routing}); the replica on a memory KV in Node`,
      `      ${push.eventkv.ms.length} rounds after a warm-up; offline appends of ${appendSize} event(s); ` +
        `syncNow sent ${push.requests.push} push and ${push.requests.pull} pull requests`,
      `      floor: ${streams} POST .../streams/{type}/{id}/events of ${perStream} events, one after the other`,
    ].join('\n'),
  );
}
if (pull) {
  console.log(
    [
      `pull: ${pull.browser}; the edge in the same place, in process, over a memory KV; durability ${durability}`,
      `      ${pull.eventkv.ms.length} rounds after a warm-up on an edge a twentieth the size; the log ` +
        `holds appends of ${pullSizes.appendSize} events, the streams in turn; pages of ${PULL_PAGE}`,
      '      floor: readLog pages through wire JSON, per page one readwrite transaction, one put per event',
    ].join('\n'),
  );
}
console.log();
console.log(
  table(
    [
      'workload',
      'eventkv us/event: median (min-max)',
      'floor us/event',
      'floor/eventkv: of medians (rounds min-max)',
    ],
    rows,
  ),
);
console.log(
  '(floor/eventkv: 1.0x is as fast as the floor, above 1.0x faster, 0.5x twice its time)',
);
const seconds = (Date.now() - started.getTime()) / 1000;
console.log();
console.log(`Total ${seconds.toFixed(0)} s`);

if (values.json !== undefined) {
  const report = (mine: Timings, floor: Timings) => ({
    eventkv: { ...mine, ...summarize(mine) },
    floor: { ...floor, ...summarize(floor) },
    ratio: ratioOf(mine, floor),
  });
  writeJson(values.json, {
    date: started.toISOString(),
    machine: machine(),
    loadBefore: load,
    seconds,
    settings: {
      reps,
      pullReps,
      env,
      durability,
      routing,
      pushSizes,
      pullSizes,
      pullPage: PULL_PAGE,
    },
    push: push && {
      syncNow: report(push.eventkv, push.floor),
      pushPart: report(push.eventkvPush, push.floor),
      requests: push.requests,
    },
    pull: pull && {
      environment: pull.browser,
      setupSeconds: pull.setupSeconds,
      syncNow: report(pull.eventkv, pull.floor),
      ...(pull.eventkvLean ? { indexesFalse: report(pull.eventkvLean, pull.floor) } : {}),
    },
  });
}
