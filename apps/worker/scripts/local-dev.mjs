// Local development of the eventkv Worker, shared by `pnpm dev`/`pnpm token` here, the
// demo's `pnpm start` and end-to-end tests, and the benchmarks: the development secret,
// tokens signed with it, and the Worker started in local workerd.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sign } from 'hono/jwt';

/** Signs tokens for `wrangler dev` on this machine. Never use it in production. */
export const LOCAL_DEV_SECRET = 'local-dev-secret-not-for-production-0000';

/** This Worker's wrangler configuration. */
export const WORKER_CONFIG = fileURLToPath(new URL('../wrangler.jsonc', import.meta.url));

/**
 * A bearer token for `database`, with the claims the Worker checks (`db`, `iss`, `aud`,
 * `exp`), signed with AUTH_SECRET from the environment or else the development secret.
 * @param {string} database
 * @param {{ ttlSeconds?: number, subject?: string, secret?: string }} [options]
 * @returns {Promise<string>}
 */
export const mintLocalToken = (database, options = {}) => {
  const now = Math.floor(Date.now() / 1000);
  return sign(
    {
      db: database,
      sub: options.subject ?? process.env.USER ?? 'local',
      iss: process.env.AUTH_ISSUER ?? 'eventkv',
      aud: process.env.AUTH_AUDIENCE ?? 'eventkv-api',
      iat: now,
      exp: now + (options.ttlSeconds ?? 3600),
    },
    options.secret ?? process.env.AUTH_SECRET ?? LOCAL_DEV_SECRET,
    'HS256',
  );
};

/**
 * Starts a Worker in local workerd through wrangler's programmatic API, on a free loopback
 * port (or `port`), with Durable Object storage in a fresh temporary directory removed on
 * dispose (or in `persist`, kept: a Worker started again on it finds its data, as after a
 * crash and restart). Workspace packages are bundled from their TypeScript sources.
 * `watch: false` keeps the Worker as it was bundled: by default wrangler rebuilds and
 * restarts it when a source file changes, which resets every Durable Object (a benchmark
 * run while the sources are being edited loses the state it prepared).
 * @param {{ config?: string, vars?: Readonly<Record<string, string>>, logLevel?: 'none' | 'error' | 'warn' | 'info' | 'log' | 'debug', port?: number, persist?: string, watch?: boolean }} [options]
 * @returns {Promise<{ url: URL, dispose(): Promise<void> }>}
 */
export const startLocalWorker = async (options = {}) => {
  process.env.WRANGLER_BUILD_CONDITIONS ??= '@eventkv/source,workerd,worker,browser';
  process.env.WRANGLER_SEND_METRICS ??= 'false';
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
  const { unstable_startWorker } = await import('wrangler');
  const owned = options.persist === undefined;
  const persist = options.persist ?? mkdtempSync(join(tmpdir(), 'eventkv-worker-'));
  const remove = () => {
    if (owned) rmSync(persist, { recursive: true, force: true });
  };
  try {
    const worker = await unstable_startWorker({
      config: options.config ?? WORKER_CONFIG,
      bindings: Object.fromEntries(
        Object.entries(options.vars ?? {}).map(([name, value]) => [
          name,
          { type: 'plain_text', value },
        ]),
      ),
      dev: {
        server: { hostname: '127.0.0.1', port: options.port ?? 0 },
        inspector: false,
        persist,
        logLevel: options.logLevel ?? 'warn',
        ...(options.watch === false ? { watch: false } : {}),
      },
    });
    await worker.ready;
    const url = await worker.url;
    return {
      url,
      async dispose() {
        await worker.dispose();
        remove();
      },
    };
  } catch (error) {
    remove();
    throw error;
  }
};
