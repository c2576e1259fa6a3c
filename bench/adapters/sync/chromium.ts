import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../../../chromium.shared.js';
import type { PullInput, PullResult } from './pull.js';

/** Bundles the page entry from its TypeScript source (workspace packages from source too). */
const bundle = async (): Promise<string> => {
  // Resolved from the bundled runner in bench/dist/, which sits beside bench/adapters/.
  const entry = fileURLToPath(new URL('../adapters/sync/browser.ts', import.meta.url));
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@eventkv/source'],
    write: false,
    logLevel: 'warning',
  });
  return result.outputFiles[0]!.text;
};

/**
 * Runs the pull bench in headless Chromium: the page is served from a loopback `node:http`
 * server (IndexedDB needs a real origin, not `file://` or `about:blank`).
 */
export const runPullInChromium = async (
  input: PullInput,
  log: (text: string) => void,
): Promise<PullResult & { browser: string }> => {
  const script = await bundle();
  const server = createServer((request, response) => {
    if (request.url === '/bench.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else {
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          '<!doctype html><title>eventkv sync bench</title><script type="module" src="/bench.js"></script>',
        );
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  try {
    const page = await browser.newPage();
    page.on('console', (message) => log(message.text()));
    page.on('pageerror', (error) => log(`page error: ${error.message}`));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => typeof globalThis.runPullBenchInPage === 'function');
    const result = await page.evaluate((arg) => globalThis.runPullBenchInPage(arg), input);
    return { ...result, browser: `Chromium ${browser.version()}` };
  } finally {
    await browser.close();
    server.close();
  }
};
