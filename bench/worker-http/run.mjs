#!/usr/bin/env node
// The eventkv Worker's HTTP round trip on local Durable Object storage: starts
// `wrangler dev` on a loopback port, then drives appends and reads through it from a
// bounded concurrent loop (fixed request count, time cap) and prints requests/s, p50, p99.
//
//   node bench/worker-http/run.mjs [--requests 2000] [--concurrency 16] [--cap-seconds 60]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    'cap-seconds': { type: 'string', default: '60' },
    port: { type: 'string', default: '8791' },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const CAP_MS = Number(values['cap-seconds']) * 1000;
const PORT = Number(values.port);
const BASE = `http://127.0.0.1:${PORT}`;
const SECRET = 'bench-secret-for-local-runs-only-0123456789';
const DATABASE = 'bench';

const workerDir = fileURLToPath(new URL('../../apps/worker/', import.meta.url));
const persist = mkdtempSync(join(tmpdir(), 'eventkv-bench-'));

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const mintToken = async () => {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(
    JSON.stringify({ db: DATABASE, iss: 'eventkv', aud: 'eventkv-api', iat: now, exp: now + 3600 }),
  );
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(SECRET),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const signature = await crypto.subtle.sign(
    'HMAC',
    key,
    new TextEncoder().encode(`${header}.${payload}`),
  );
  return `${header}.${payload}.${b64url(new Uint8Array(signature))}`;
};

const startWorker = () => {
  const child = spawn(
    process.execPath,
    [
      'scripts/wrangler.mjs',
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(PORT),
      '--persist-to',
      persist,
      '--var',
      `AUTH_SECRET:${SECRET}`,
      '--var',
      'RATE_LIMIT_PER_MINUTE:0',
      '--log-level',
      'warn',
    ],
    {
      cwd: workerDir,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    },
  );
  return child;
};

const waitReady = async (deadline) => {
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${BASE}/`);
      await res.arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error('the Worker did not start in time');
};

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Runs `count` requests from `CONCURRENCY` loops, stopping early at the time cap. */
const drive = async (name, count, request) => {
  const latencies = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const stopAt = started + CAP_MS;
  const loop = async (lane) => {
    while (next < count && performance.now() < stopAt) {
      const i = next++;
      const t0 = performance.now();
      const res = await request(lane, i);
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (!res.ok) failures += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, lane) => loop(lane)));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    workload: name,
    requests: latencies.length,
    failures,
    'req/s': Math.round(latencies.length / seconds),
    'p50 ms': Number(percentile(latencies, 50).toFixed(2)),
    'p99 ms': Number(percentile(latencies, 99).toFixed(2)),
  };
};

const child = startWorker();
try {
  await waitReady(Date.now() + 60_000);
  const token = await mintToken();
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  // One stream per lane: appends measure the round trip, not contention between writers.
  const path = (lane) => `${BASE}/v1/${DATABASE}/streams/Account/lane-${lane}/events`;
  const append = (lane, i) =>
    fetch(path(lane), {
      method: 'POST',
      headers,
      body: JSON.stringify({
        json: {
          events: [{ type: 'Deposited', data: { amount: i, at: new Date().toISOString() } }],
        },
        meta: { values: { 'events.0.data.at': ['Date'] } },
      }),
    });
  const read = (lane) => fetch(`${path(lane)}?direction=backward&limit=10`, { headers });

  await drive('warm-up', Math.min(200, REQUESTS), append);
  const results = [
    await drive('append (1 event)', REQUESTS, append),
    await drive('read (last 10)', REQUESTS, read),
  ];
  console.log(
    `eventkv Worker over HTTP, wrangler dev on loopback, local DO storage; ${CONCURRENCY} concurrent clients, ` +
      `${REQUESTS} requests per workload (cap ${CAP_MS / 1000} s), Node ${process.versions.node}`,
  );
  console.table(results);
  if (results.some((r) => r.failures > 0)) process.exitCode = 1;
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(persist, { recursive: true, force: true });
}
