#!/usr/bin/env node
// `pnpm start`: builds the demo, starts the eventkv Worker on local Durable Object storage
// (wrangler dev, no account or network needed), serves the built demo, and prints the URLs:
// first the one that connects the demo's replica to this Worker, then the plain one.
//
//   DEMO_PORT (4173), WORKER_PORT (8787)   ports on this machine
//   EVENTKV_PERSIST_DIR                    where the Worker keeps its data
//                                          (default: wrangler's apps/worker/.wrangler/state)
//   EVENTKV_DEMO_OUT_DIR                   where the demo is built (default apps/demo/dist)
//   WRANGLER_LOG (warn)                    the Worker's log level (info shows each request)
//
// The Worker runs as wrangler.jsonc configures it (ROUTING=stream: one Durable Object per
// stream, the database's object their feed, which serves sync, queries and the log); CORS
// admits the demo's origins; the bearer
// token is minted with the local development secret and handed to the demo in the
// address's fragment, which browsers never send to a server.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { build, preview } from 'vite';
import { LOCAL_DEV_SECRET, mintLocalToken } from '../../worker/scripts/local-dev.mjs';

const demoDir = fileURLToPath(new URL('..', import.meta.url));
const workerDir = fileURLToPath(new URL('../../worker/', import.meta.url));
const DATABASE = 'demo';
const TOKEN_TTL_SECONDS = 7 * 24 * 3600;

/** @param {string} name @param {number} fallback */
const port = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    console.error(`${name} must be a port number (got ${process.env[name]})`);
    process.exit(1);
  }
  return value;
};
const demoPort = port('DEMO_PORT', 4173);
const workerPort = port('WORKER_PORT', 8787);
const demoUrl = `http://localhost:${demoPort}/`;
const workerUrl = `http://127.0.0.1:${workerPort}`;
const outDir = process.env.EVENTKV_DEMO_OUT_DIR;

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();
/** @param {number} code */
const stop = (code) => {
  for (const child of children) child.kill('SIGTERM');
  process.exit(code);
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stop(0));

/**
 * Prefixes a child's output lines, so the printed URLs stay easy to find.
 * @param {import('node:stream').Readable} stream
 * @param {string} prefix
 * @param {NodeJS.WritableStream} sink
 */
const relay = (stream, prefix, sink) => {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (/** @type {string} */ chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') sink.write(`${prefix} ${line}\n`);
  });
};

const startWorker = () => {
  const args = [
    'scripts/wrangler.mjs',
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(workerPort),
    '--show-interactive-dev-session=false',
    '--log-level',
    process.env.WRANGLER_LOG ?? 'warn',
    '--var',
    `AUTH_SECRET:${LOCAL_DEV_SECRET}`,
    '--var',
    `CORS_ORIGINS:http://localhost:${demoPort},http://127.0.0.1:${demoPort}`,
    ...(process.env.EVENTKV_PERSIST_DIR ? ['--persist-to', process.env.EVENTKV_PERSIST_DIR] : []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: workerDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  children.add(child);
  relay(child.stdout, '[worker]', process.stdout);
  relay(child.stderr, '[worker]', process.stderr);
  child.on('exit', (code) => {
    children.delete(child);
    console.error(`[worker] wrangler dev exited (${code ?? 'signal'}); stopping.`);
    stop(1);
  });
  return child;
};

/** Waits until the Worker answers HTTP (any status). */
const waitForWorker = async (timeoutMs = 120_000) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await fetch(`${workerUrl}/v1`, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  throw new Error(`the Worker did not answer on ${workerUrl} within ${timeoutMs / 1000} s`);
};

let token;
try {
  console.log('[demo] building the demo…');
  await build({
    root: demoDir,
    logLevel: 'warn',
    ...(outDir ? { build: { outDir, emptyOutDir: true } } : {}),
  });
  console.log('[demo] starting the Worker on local Durable Object storage…');
  startWorker();
  await waitForWorker();
  token = await mintLocalToken(DATABASE, {
    ttlSeconds: TOKEN_TTL_SECONDS,
    secret: LOCAL_DEV_SECRET,
  });
  await preview({
    root: demoDir,
    logLevel: 'warn',
    preview: { host: 'localhost', port: demoPort, strictPort: true },
    ...(outDir ? { build: { outDir } } : {}),
  });
} catch (error) {
  // A port in use, a failed build: say what happened, and leave no Worker behind.
  console.error(`[demo] could not start: ${error instanceof Error ? error.message : error}`);
  stop(1);
}

const connect = `${demoUrl}#connect=${encodeURIComponent(workerUrl)}&token=${token}`;
/** @type {[string, string][]} */
const lines = [
  ['Demo, synced with the local Worker:', connect],
  ['Demo on this device only:', demoUrl],
  ['Worker API (local Durable Object storage):', `${workerUrl}/v1/${DATABASE}/...`],
];
const width = Math.max(...lines.map(([label]) => label.length)) + 2;
console.log(`
eventkv demo is running.

${lines.map(([label, url]) => `  ${label.padEnd(width)}${url}`).join('\n')}

Open the first address in each browser (or browser profile: each is a device) that should
sync: it saves the Worker's address and a token (valid 7 days) there and takes them out of
the address bar; the accounts live in the browser's IndexedDB and sync with the Worker.
The second address keeps them in a browser that was never connected (its Sync page
connects it later). Press Ctrl+C to stop.
`);
