import { defineProject } from 'vitest/config';
import { source } from '../../vitest.shared';

export default defineProject({
  ...source,
  test: {
    name: 'indexeddb',
    root: import.meta.dirname,
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.browser.test.ts'],
    // fake-indexeddb's globals: idb checks values against IDBDatabase, IDBRequest, ...
    setupFiles: ['fake-indexeddb/auto'],
  },
});
