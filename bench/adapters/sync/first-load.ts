/**
 * `pnpm bench:first-load`: the first load of a replica holding unsynced events, in
 * headless Chromium on IndexedDB, against a floor measured in the same run.
 *
 * A replica is seeded once per layout through the app's API (`createSyncedStore` over
 * `createIndexedDbKv`, a remote that is never reached): 20,000 pending events as 200
 * streams of 100 appends of one event, and as one stream of 20,000. Then each load is a
 * fresh page that creates the store and awaits `status()`, `pendingStreams()` and the full
 * read of the stream pending longest: what an app needs for its first screen. The floor
 * is a fresh page that opens the same database and reads the same records with plain
 * IndexedDB calls (`first-load-page.ts` says which).
 *
 * Two ways to load, both by default (`--mode cold` or `--mode warm` for one):
 * - cold: Chromium is started for each load on the profile that holds the database, so
 *   the browser has not opened it since (an app opened after the browser started);
 * - warm: a new tab of one running browser for each load (the database was opened by the
 *   tab before, closed a moment ago).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BrowserContext, chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../../../chromium.shared.js';
import { median } from '../../src/measure.js';
import { header, machine, positiveInt, writeJson } from '../shared/cli.js';
import { bundlePage } from '../shared/page.js';
import type { Layout, LoadTimings, SeedResult } from './first-load-page.js';
import { table } from './stats.js';

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    loads: { type: 'string', default: '7' },
    events: { type: 'string', default: '20000' },
    streams: { type: 'string', default: '200' },
    mode: { type: 'string', default: 'cold,warm' },
    only: { type: 'string', default: 'spread,single' },
  },
});
const positive = positiveInt;
const loads = positive('loads', values.loads);
const events = positive('events', values.events);
const streams = positive('streams', values.streams);
if (events % streams !== 0) throw new Error('--events must be a multiple of --streams');
const modes = values.mode.split(',');
if (modes.some((m) => m !== 'cold' && m !== 'warm')) {
  throw new Error("--mode takes 'cold', 'warm' or both");
}
const stamp = Date.now();
const layouts: (Layout & { readonly label: string })[] = [
  {
    label: 'spread',
    name: `first-load-spread-${stamp}`,
    streams,
    perStream: events / streams,
  },
  { label: 'single', name: `first-load-single-${stamp}`, streams: 1, perStream: events },
].filter((l) => values.only.split(',').includes(l.label));

const log = (text: string) => void process.stderr.write(`${text}\n`);
const started = new Date();
const load = machine().load;

// The page, bundled from the TypeScript sources (workspace packages from source too).
const script = await bundlePage(
  fileURLToPath(new URL('../adapters/sync/first-load-page.ts', import.meta.url)),
);
// One origin for the whole run (IndexedDB belongs to scheme, host and port).
const server = createServer((request, response) => {
  if (request.url === '/first-load.js') {
    response
      .writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' })
      .end(script);
  } else {
    response
      .writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' })
      .end(
        '<!doctype html><title>eventkv</title><script type="module" src="/first-load.js"></script>',
      );
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
// A profile on disk: a context of `browser.newContext()` keeps IndexedDB in memory.
const profile = mkdtempSync(join(tmpdir(), 'eventkv-first-load-'));
let version = '';

const launch = async (): Promise<BrowserContext> => {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    args: chromiumArgs,
    headless: true,
  });
  version = context.browser()?.version() ?? version;
  return context;
};

/** Opens a new tab, loads the page and runs one of its functions. */
const inPage = async <R>(context: BrowserContext, run: string, input: unknown): Promise<R> => {
  const page = await context.newPage();
  page.on('console', (message) => log(message.text()));
  page.on('pageerror', (error) => log(`page error: ${error.message}`));
  try {
    await page.goto(origin);
    await page.waitForFunction(
      (name) => typeof (globalThis as Record<string, unknown>)[name] === 'function',
      run,
    );
    return (await page.evaluate(
      ([name, arg]) =>
        ((globalThis as Record<string, unknown>)[name] as (a: unknown) => Promise<unknown>)(arg),
      [run, input] as const,
    )) as R;
  } finally {
    await page.close();
  }
};

type Subject = 'eventkv' | 'floor';
const fn: Record<Subject, string> = { eventkv: 'firstLoadEventkv', floor: 'firstLoadFloor' };
interface Cell {
  readonly layout: string;
  readonly mode: string;
  readonly subject: Subject;
  readonly loads: LoadTimings[];
}
const cells: Cell[] = [];
const seeds: Record<string, SeedResult> = {};

try {
  {
    const context = await launch();
    try {
      for (const layout of layouts) {
        log(`seeding ${layout.label}: ${layout.streams} x ${layout.perStream} pending events`);
        seeds[layout.label] = await inPage<SeedResult>(context, 'firstLoadSeed', layout);
        log(`  ${seeds[layout.label]!.seconds.toFixed(0)} s`);
      }
    } finally {
      await context.close();
    }
  }
  for (const mode of modes) {
    const warm = mode === 'warm' ? await launch() : undefined;
    try {
      for (const layout of layouts) {
        const mine: Cell = { layout: layout.label, mode, subject: 'eventkv', loads: [] };
        const floor: Cell = { layout: layout.label, mode, subject: 'floor', loads: [] };
        // One warm-up load of each first (not counted), then the loads, the one that goes
        // first alternating.
        for (let i = -1; i < loads; i++) {
          const order: Cell[] = i % 2 === 0 ? [mine, floor] : [floor, mine];
          for (const cell of order) {
            const context = warm ?? (await launch());
            try {
              const timings = await inPage<LoadTimings>(context, fn[cell.subject], layout);
              if (i >= 0) cell.loads.push(timings);
            } finally {
              if (!warm) await context.close();
            }
          }
        }
        cells.push(mine, floor);
        log(`${mode} ${layout.label}: done`);
      }
    } finally {
      await warm?.close();
    }
  }
} finally {
  server.close();
  rmSync(profile, { recursive: true, force: true });
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const spread = (all: readonly number[]) =>
  `${ms(median(all))} (${ms(Math.min(...all))}-${ms(Math.max(...all))})`;
const steps = ['total', 'status', 'pendingStreams', 'read', 'sinceNavigation'] as const;
const stepNames: Record<(typeof steps)[number], string> = {
  total: 'all three, from creating the store (floor: opening the database)',
  status: '  status() (floor: meta, status and every state)',
  pendingStreams: '  then pendingStreams() (floor: sum and pick the oldest)',
  read: '  then read() of the oldest stream (floor: its outbox entries)',
  sinceNavigation: 'all three, from navigation start',
};

console.log(header('eventkv first-load bench', started, load));
console.log(
  [
    `Chromium ${version}, headless, IndexedDB on disk (a persistent profile); ${loads} loads per cell after one warm-up load,`,
    '      eventkv and the floor alternating; cold: Chromium started for each load; warm: a new tab of a running browser',
    ...layouts.map(
      (l) =>
        `${l.label}: ${l.streams} streams x ${l.perStream} appends of 1 event = ${l.streams * l.perStream} pending; ` +
        `seeded in ${seeds[l.label]!.seconds.toFixed(0)} s, origin uses ${((seeds[l.label]!.usageBytes ?? 0) / 2 ** 20).toFixed(1)} MiB`,
    ),
  ].join('\n'),
);
for (const layout of layouts) {
  for (const mode of modes) {
    const of = (subject: Subject) =>
      cells.find((c) => c.layout === layout.label && c.mode === mode && c.subject === subject)!;
    const mine = of('eventkv');
    const floor = of('floor');
    console.log();
    console.log(
      table(
        [`${layout.label}, ${mode}`, 'eventkv ms: p50 (min-max)', 'floor ms: p50 (min-max)'],
        steps.map((step) => [
          stepNames[step],
          spread(mine.loads.map((t) => t[step])),
          spread(floor.loads.map((t) => t[step])),
        ]),
      ),
    );
  }
}
const seconds = (Date.now() - started.getTime()) / 1000;
console.log();
console.log(`Total ${seconds.toFixed(0)} s`);

if (values.json !== undefined) {
  writeJson(values.json, {
    date: started.toISOString(),
    machine: machine(),
    loadBefore: load,
    seconds,
    browser: `Chromium ${version}`,
    settings: { loads, events, streams, modes, layouts },
    seeds,
    cells: cells.map((c) => ({
      ...c,
      p50: Object.fromEntries(steps.map((s) => [s, median(c.loads.map((t) => t[s]))])),
    })),
  });
}
