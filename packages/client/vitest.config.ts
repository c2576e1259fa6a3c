import { defineConfig } from 'vitest/config';
import { source } from '../../vitest.shared';

// The client against the real Worker runs in the worker project (apps/worker); these are
// its Node-side unit tests over a stub fetch.
export default defineConfig({
  ...source,
  test: {
    name: 'client',
    include: ['test/**/*.test.ts'],
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './test/tsconfig.json',
    },
  },
});
