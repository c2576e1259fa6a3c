import { defineConfig } from 'vitest/config';
import { source } from '../../vitest.shared';

// The demo's unit and view tests: the domain, the ledger over the in-memory store, and the
// Preact views rendered in happy-dom. The real-browser journeys live in vitest.e2e.config.ts.
export default defineConfig({
  ...source,
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  test: {
    name: 'demo',
    environment: 'happy-dom',
    include: ['test/**/*.test.{ts,tsx}'],
    // Bundled through Vite like the app, so that it renders with the app's Preact (one
    // instance of it: hooks break across two).
    server: { deps: { inline: ['@testing-library/preact'] } },
  },
});
