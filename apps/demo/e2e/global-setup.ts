import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import {
  LOCAL_DEV_SECRET,
  mintLocalToken,
  startLocalWorker,
} from '../../worker/scripts/local-dev.mjs';

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

/** The database the token grants. */
export const DATABASE = 'demo';

/**
 * Builds the demo into a temporary directory of its own (a build of `dist/` meanwhile, by
 * `pnpm start` or `lint:package`, cannot empty it under the tests), serves it on a free
 * `localhost` port, starts the Worker on a free loopback port with fresh storage (allowing
 * the demo's origin), mints a token, and hands all three to the tests. Returns the
 * teardown.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const disposers: (() => Promise<void> | void)[] = [];
  const teardown = async () => {
    for (const dispose of disposers.reverse()) await dispose();
  };
  try {
    const { build, preview } = await import('vite');
    const configFile = join(demoRoot, 'vite.config.ts');
    const outDir = mkdtempSync(join(tmpdir(), 'eventkv-demo-e2e-'));
    disposers.push(() => rmSync(outDir, { recursive: true, force: true }));
    // Vitest sets NODE_ENV=test; the app is tested as it ships, a production build.
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({
        root: demoRoot,
        configFile,
        logLevel: 'warn',
        build: { outDir, emptyOutDir: true },
      });
    } finally {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    }

    const server = await preview({
      root: demoRoot,
      configFile,
      logLevel: 'warn',
      build: { outDir },
      preview: { host: 'localhost', port: 0, strictPort: true, open: false },
    });
    disposers.push(() => server.close());
    const demoUrl = server.resolvedUrls?.local[0];
    if (demoUrl === undefined) throw new Error('vite preview reported no local URL');
    const demoOrigin = new URL(demoUrl).origin;

    const worker = await startLocalWorker({
      // The routing of apps/worker/wrangler.jsonc, as deployed ('stream').
      vars: { AUTH_SECRET: LOCAL_DEV_SECRET, CORS_ORIGINS: demoOrigin },
    });
    disposers.push(() => worker.dispose());
    const workerUrl = worker.url.origin;

    project.provide('demoUrl', demoUrl);
    project.provide('workerUrl', workerUrl);
    project.provide('token', await mintLocalToken(DATABASE, { secret: LOCAL_DEV_SECRET }));
    return teardown;
  } catch (error) {
    await teardown();
    throw error;
  }
}
