import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balance, deposit, openAccount, syncDetail, synced, useChromium } from './helpers';

// The README's first command ends in `pnpm start`, which runs this script: it must build
// the demo, start the Worker on local Durable Object storage, and print working URLs.
const script = fileURLToPath(new URL('../scripts/start.mjs', import.meta.url));

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

/** Runs the start script with its ports and directories; collects its output. */
const runStart = (demoPort: number, workerPort: number, scratch: string) => {
  // As from a shell: without the NODE_ENV=test that Vitest sets.
  const { NODE_ENV: _, ...shell } = process.env;
  const child = spawn(process.execPath, [script], {
    env: {
      ...shell,
      DEMO_PORT: String(demoPort),
      WORKER_PORT: String(workerPort),
      EVENTKV_PERSIST_DIR: join(scratch, 'state'),
      EVENTKV_DEMO_OUT_DIR: join(scratch, 'dist'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = {
    child,
    output: '',
    exited: new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))),
  };
  const collect = (chunk: Buffer) => {
    run.output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return run;
};

const chromium = useChromium();

/** The address `pnpm start` prints for the demo synced with its Worker. */
const connectAddress = (output: string): string => {
  const match = /(http:\/\/\S+#connect=[^&\s]+&token=\S+)/.exec(output);
  expect(match, output).not.toBeNull();
  return match![1]!;
};

const answers = (url: string) =>
  fetch(url).then(
    () => true,
    () => false,
  );

describe('pnpm start', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'eventkv-start-'));
  let run: ReturnType<typeof runStart>;
  let demoPort = 0;
  let workerPort = 0;

  beforeAll(async () => {
    const deadline = Date.now() + 150_000;
    // A port found free may be taken by another process (other test files run beside this
    // one) before the script binds it, seconds later, after its build: then it says so and
    // exits, and it is run again on other ports.
    for (let attempt = 1; ; attempt++) {
      demoPort = await freePort();
      workerPort = await freePort();
      run = runStart(demoPort, workerPort, scratch);
      while (!run.output.includes('eventkv demo is running.') && run.child.exitCode === null) {
        if (Date.now() > deadline) throw new Error(`start printed no URLs in time:\n${run.output}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      if (run.child.exitCode === null) return;
      if (attempt === 3 || !/already in use/.test(run.output)) {
        throw new Error(`start exited early:\n${run.output}`);
      }
    }
  }, 180_000);

  afterAll(async () => {
    if (run.child.exitCode === null) {
      run.child.kill('SIGINT');
      await run.exited;
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  it('prints the demo URL, and serves the built app with its service worker', async () => {
    const demoUrl = `http://localhost:${demoPort}/`;
    // The address alone on its line (the one that connects follows it with a fragment).
    expect(run.output.split('\n').some((line) => line.trimEnd().endsWith(` ${demoUrl}`))).toBe(
      true,
    );
    const page = await fetch(demoUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>eventkv ledger</title>');
    const worker = await fetch(new URL('sw.js', demoUrl));
    expect(worker.status).toBe(200);
    expect(await worker.text()).toContain('precache');
  });

  it('prints an address that connects the demo to the running Worker, with a working token', async () => {
    expect(connectAddress(run.output).startsWith(`http://localhost:${demoPort}/#connect=`)).toBe(
      true,
    );
    const match = /#connect=([^&\s]+)&token=(\S+)/.exec(run.output);
    expect(match).not.toBeNull();
    const endpoint = decodeURIComponent(match![1]!);
    expect(endpoint).toBe(`http://127.0.0.1:${workerPort}`);
    const origin = `http://localhost:${demoPort}`;
    const response = await fetch(`${endpoint}/v1/demo/streams/BankAccount/start-check/events`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${match![2]}`,
        'Content-Type': 'application/json',
        Origin: origin,
      },
      body: JSON.stringify({ events: [{ type: 'FundsDeposited', data: { amount: 100 } }] }),
    });
    expect(response.status).toBe(201);
    // The demo's origin may call the Worker from the browser.
    expect(response.headers.get('access-control-allow-origin')).toBe(origin);
    // The Worker routes by database, so the demo's account list and audit view can query it.
    const query = await fetch(`${endpoint}/v1/demo/query/eventType/FundsDeposited`, {
      headers: { Authorization: `Bearer ${match![2]}` },
    });
    expect(query.status).toBe(200);
  });

  it('gives an address that a browser opens to sync with its Worker, live', async () => {
    const { page } = await chromium.open(connectAddress(run.output));
    await openAccount(page, 'Start Script');
    await deposit(page, '4');
    await synced(page);
    await page.getByRole('link', { name: 'Sync', exact: true }).click();
    expect(await syncDetail(page, 'Worker')).toBe(`http://127.0.0.1:${workerPort}`);
    await expect
      .poll(() => syncDetail(page, 'Connection'))
      .toBe('live: the Worker pokes this device when there is news');
    // Another device (browser profile) opening the same address gets the account.
    const { page: other } = await chromium.open(connectAddress(run.output));
    await other.getByRole('link', { name: 'Start Script' }).click();
    await expect.poll(() => balance(other)).toBe('€4.00');
  });

  it('stops the Worker and the server on Ctrl+C', async () => {
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    await expect.poll(() => answers(`http://localhost:${demoPort}/`)).toBe(false);
    // wrangler shuts workerd down after the script exits: give it a few seconds.
    await expect
      .poll(() => answers(`http://127.0.0.1:${workerPort}/v1`), { timeout: 20_000 })
      .toBe(false);
  });
});

describe('pnpm start, when the demo port is taken', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'eventkv-start-'));
  const taken = createServer();

  afterAll(async () => {
    await new Promise((resolve) => taken.close(resolve));
    rmSync(scratch, { recursive: true, force: true });
  });

  it('says so, exits with 1 and leaves no Worker running', async () => {
    await new Promise<void>((resolve) => taken.listen(0, 'localhost', resolve));
    const address = taken.address();
    const demoPort = typeof address === 'object' && address ? address.port : 0;
    const workerPort = await freePort();
    const run = runStart(demoPort, workerPort, scratch);
    expect(await run.exited).toBe(1);
    // The Worker had been started (the demo's server comes last), and is stopped again.
    expect(run.output).toContain('[demo] starting the Worker');
    expect(run.output).toMatch(new RegExp(`could not start: .*${demoPort}`));
    expect(run.output).not.toContain('eventkv demo is running.');
    await expect
      .poll(() => answers(`http://127.0.0.1:${workerPort}/v1`), { timeout: 20_000 })
      .toBe(false);
  }, 180_000);
});
