import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { source } from '../../vitest.shared';

export default defineConfig({
  ...source,
  plugins: [cloudflareTest({ wrangler: { configPath: './test/wrangler.jsonc' } })],
  test: {
    name: 'durable-object',
    include: ['test/**/*.test.ts'],
    // Every KV call of the conformance suite is a request into an object: slower than memory.
    testTimeout: 30_000,
  },
});
