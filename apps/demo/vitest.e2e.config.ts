import { defineProject } from 'vitest/config';
import { source } from '../../vitest.shared';

/**
 * End-to-end tests of the demo in real Chromium (playwright-core). The global setup builds
 * the app once, serves it with `vite preview`, starts the Worker in local workerd and mints
 * a token; each test file launches one Chromium and gives each test a fresh context.
 */
export default defineProject({
  ...source,
  test: {
    name: 'demo-e2e',
    root: import.meta.dirname,
    environment: 'node',
    include: ['e2e/**/*.e2e.ts'],
    globalSetup: ['./e2e/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Pages update asynchronously (IndexedDB, the Worker): polled assertions get time.
    expect: { poll: { timeout: 15_000, interval: 50 } },
  },
});
