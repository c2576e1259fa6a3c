import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  interface ProvidedContext {
    /** The built demo, served by `vite preview`, e.g. `http://localhost:41234/`. */
    demoUrl: string;
    /** The Worker in local workerd, e.g. `http://127.0.0.1:41235` (no trailing slash). */
    workerUrl: string;
    /** A bearer token for the Worker's database `demo`. */
    token: string;
  }
}

const demoRoot = join(import.meta.dirname, '..');
const repoRoot = join(demoRoot, '..', '..');

/** The secret the local Worker verifies tokens with (as `pnpm dev` in apps/worker). */
export const LOCAL_AUTH_SECRET = 'local-dev-secret-not-for-production-0000';

/** The database the token grants. */
export const DATABASE = 'demo';

const mintToken = async (database: string): Promise<string> => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(repoRoot, 'apps/worker/scripts/token.mjs'), database],
    { env: { ...process.env, AUTH_SECRET: LOCAL_AUTH_SECRET } },
  );
  return stdout.trim();
};

/**
 * Builds the demo, serves `dist/` on a free `localhost` port, starts the Worker on a free
 * loopback port with fresh storage (allowing the demo's origin), mints a token, and hands
 * all three to the tests. Returns the teardown.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const disposers: (() => Promise<void> | void)[] = [];
  const teardown = async () => {
    for (const dispose of disposers.reverse()) await dispose();
  };
  try {
    const { build, preview } = await import('vite');
    const configFile = join(demoRoot, 'vite.config.ts');
    // Vitest sets NODE_ENV=test; the app is tested as it ships, a production build.
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({ root: demoRoot, configFile, logLevel: 'warn' });
    } finally {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    }

    const server = await preview({
      root: demoRoot,
      configFile,
      logLevel: 'warn',
      preview: { host: 'localhost', port: 0, strictPort: true, open: false },
    });
    disposers.push(() => server.close());
    const demoUrl = server.resolvedUrls?.local[0];
    if (demoUrl === undefined) throw new Error('vite preview reported no local URL');
    const demoOrigin = new URL(demoUrl).origin;

    process.env.WRANGLER_BUILD_CONDITIONS ??= '@eventkv/source,workerd,worker,browser';
    process.env.WRANGLER_SEND_METRICS ??= 'false';
    const { unstable_startWorker } = await import('wrangler');
    const persist = mkdtempSync(join(tmpdir(), 'eventkv-demo-e2e-'));
    disposers.push(() => rmSync(persist, { recursive: true, force: true }));
    const plain = (value: string) => ({ type: 'plain_text' as const, value });
    const worker = await unstable_startWorker({
      config: join(repoRoot, 'apps/worker/wrangler.jsonc'),
      bindings: {
        AUTH_SECRET: plain(LOCAL_AUTH_SECRET),
        ROUTING: plain('database'),
        CORS_ORIGINS: plain(demoOrigin),
      },
      dev: {
        server: { hostname: '127.0.0.1', port: 0 },
        inspector: false,
        persist,
        logLevel: 'warn',
      },
    });
    disposers.push(() => worker.dispose());
    await worker.ready;
    const workerUrl = (await worker.url).origin;

    project.provide('demoUrl', demoUrl);
    project.provide('workerUrl', workerUrl);
    project.provide('token', await mintToken(DATABASE));
    return teardown;
  } catch (error) {
    await teardown();
    throw error;
  }
}
