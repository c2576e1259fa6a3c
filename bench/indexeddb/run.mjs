// Benchmarks of the IndexedDB adapter: fake-indexeddb in Node, then real IndexedDB in
// Chromium, each beside a raw `idb` floor measured in the same run.
// Usage (from bench/): node indexeddb/run.mjs [--reps 5] [--min-ms 200] [--only node|browser]

import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'indexeddb');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const options = { reps: Number(arg('reps', 5)), minMs: Number(arg('min-ms', 200)) };
const only = arg('only', 'all');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

await mkdir(out, { recursive: true });
const bundle = (entry, platform) =>
  build({
    entryPoints: [join(here, 'src', entry)],
    bundle: true,
    format: 'esm',
    platform,
    target: platform === 'node' ? 'node20' : 'chrome120',
    conditions: ['@eventkv/source'],
    outfile: join(out, entry.replace(/\.ts$/, '.js')),
    logLevel: 'warning',
  });

console.log(
  `eventkv IndexedDB bench ${new Date().toISOString()}  reps ${options.reps}, >= ${options.minMs} ms per sample\n`,
);

if (only !== 'browser') {
  await bundle('node.ts', 'node');
  const { runNode } = await import(pathToFileURL(join(out, 'node.js')).href);
  console.log(await runNode(options));
  console.log();
}

if (only !== 'node') {
  await bundle('browser.ts', 'browser');
  const script = await readFile(join(out, 'browser.js'));
  // IndexedDB needs a real origin: serve the page from loopback.
  const server = createServer((req, res) => {
    if (req.url === '/bench.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><script type="module" src="/bench.js"></script>');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  try {
    const page = await browser.newPage();
    page.on('console', (message) => process.stderr.write(`  ${message.text()}\n`));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => typeof window.runBench === 'function');
    console.log(await page.evaluate((o) => window.runBench(o), options));
  } finally {
    await browser.close();
    server.close();
  }
}

// The adapters' BroadcastChannels (fake-indexeddb's timers too) would keep Node running.
process.exit(0);
