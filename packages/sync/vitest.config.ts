import { defineProject } from 'vitest/config';
import { source } from '../../vitest.shared';

// The engine and the in-process edge in Node, replicas on fake-indexeddb. The edge in
// workerd is tested by the worker project (apps/worker).
export default defineProject({
  ...source,
  test: {
    name: 'sync',
    root: import.meta.dirname,
    include: ['test/**/*.test.ts'],
    // Real-browser tests run in the sync-browser project (vitest.browser.config.ts).
    exclude: ['test/**/*.browser.test.ts'],
    setupFiles: ['fake-indexeddb/auto'],
  },
});
