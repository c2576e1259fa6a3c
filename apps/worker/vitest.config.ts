import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { source } from '../../vitest.shared';

export default defineConfig({
  ...source,
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.jsonc' },
      // The tests' own secret; the deployed Worker gets its own with `wrangler secret put`.
      miniflare: {
        // No rate limit: the conformance suites send hundreds of requests per database a minute
        // (the limit itself is tested with its own settings in app.test.ts).
        bindings: {
          AUTH_SECRET: 'test-secret-for-the-workerd-tests-0123456789',
          RATE_LIMIT_PER_MINUTE: '0',
        },
      },
    }),
  ],
  test: {
    name: 'worker',
    include: ['test/**/*.test.ts'],
  },
});
