import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../../../chromium.shared.js';

/** Bundles a page entry from its TypeScript source (workspace packages from source too). */
export const bundlePage = async (entry: string): Promise<string> => {
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
 * Runs a bench in headless Chromium: bundles `entry` (a path under bench/adapters/, e.g.
 * `indexeddb/browser.ts`), serves it from a loopback `node:http` server (IndexedDB needs a
 * real origin, not `file://` or `about:blank`), waits for the page to define the global
 * function `run`, and returns what it answers for `input`.
 */
export const runPageInChromium = async <I, R>(
  entry: string,
  run: string,
  input: I,
  log: (text: string) => void,
): Promise<R & { browser: string }> => {
  // Resolved from the bundled runner in bench/dist/, which sits beside bench/adapters/.
  const script = await bundlePage(fileURLToPath(new URL(`../adapters/${entry}`, import.meta.url)));
  const server = createServer((request, response) => {
    if (request.url === '/bench.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else {
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          '<!doctype html><title>eventkv bench</title><script type="module" src="/bench.js"></script>',
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
    await page.waitForFunction(
      (name) => typeof (globalThis as Record<string, unknown>)[name] === 'function',
      run,
    );
    const result = (await page.evaluate(
      ([name, arg]) =>
        ((globalThis as Record<string, unknown>)[name] as (a: unknown) => Promise<unknown>)(arg),
      [run, input] as const,
    )) as R;
    return { ...result, browser: `Chromium ${browser.version()}` };
  } finally {
    await browser.close();
    server.close();
  }
};
