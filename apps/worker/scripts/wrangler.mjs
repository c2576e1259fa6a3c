#!/usr/bin/env node
// Runs this package's wrangler with the workspace packages bundled from their sources
// (the `@eventkv/source` export condition), so `dev` and `deploy` need no build step.
//
// wrangler 4 asks for Node 22; its CLI itself runs on Node 20 for local development, so on
// an older Node this starts the CLI directly (with a notice) instead of refusing.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const wranglerDir = fileURLToPath(new URL('../node_modules/wrangler/', import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
const entry = major >= 22 ? 'bin/wrangler.js' : 'wrangler-dist/cli.js';
if (major < 22) {
  console.warn(
    `[eventkv] Node ${process.versions.node}: starting wrangler's CLI directly (it asks for Node 22+).`,
  );
}
const child = spawn(process.execPath, [wranglerDir + entry, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: {
    ...process.env,
    WRANGLER_BUILD_CONDITIONS:
      process.env.WRANGLER_BUILD_CONDITIONS ?? '@eventkv/source,workerd,worker,browser',
    // Local development needs no `request.cf` from Cloudflare's network (the Worker does not
    // read it); without this, an offline machine logs a failed fetch on every start.
    CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? 'false',
  },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
