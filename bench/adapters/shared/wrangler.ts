import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LocalWorker {
  readonly url: URL;
  dispose(): Promise<void>;
}

/**
 * Starts a Worker in local workerd through wrangler's programmatic API, on a loopback
 * port, with Durable Object storage in a fresh temporary directory (removed on dispose).
 * Workspace packages are bundled from their TypeScript sources.
 */
export const startLocalWorker = async (
  config: string,
  vars: Readonly<Record<string, string>> = {},
): Promise<LocalWorker> => {
  process.env.WRANGLER_BUILD_CONDITIONS ??= '@eventkv/source,workerd,worker,browser';
  process.env.WRANGLER_SEND_METRICS ??= 'false';
  const { unstable_startWorker } = await import('wrangler');
  const persist = mkdtempSync(join(tmpdir(), 'eventkv-bench-'));
  const worker = await unstable_startWorker({
    config,
    bindings: Object.fromEntries(
      Object.entries(vars).map(([name, value]) => [name, { type: 'plain_text', value }]),
    ),
    dev: {
      server: { hostname: '127.0.0.1', port: 0 },
      inspector: false,
      persist,
      logLevel: (process.env.BENCH_WRANGLER_LOG ?? 'warn') as 'warn',
    },
  });
  await worker.ready;
  const url = await worker.url;
  return {
    url,
    async dispose() {
      await worker.dispose();
      rmSync(persist, { recursive: true, force: true });
    },
  };
};
