import { existsSync } from 'node:fs';
import type { TestProjectConfiguration } from 'vitest/config';
import { chromiumPath, source } from './vitest.shared';

/**
 * The test projects of the monorepo, one per package and runtime. The root
 * `vitest.config.ts` consumes this list, so `pnpm test` runs all of them. Packages whose
 * tests need their own runtime (workerd, a browser) keep a `vitest.*.config.ts` of their
 * own, listed here by path.
 */
export const projects: TestProjectConfiguration[] = [
  {
    ...source,
    test: {
      name: 'core',
      root: './packages/core',
      include: ['test/**/*.test.ts'],
      typecheck: {
        enabled: true,
        include: ['test/**/*.test-d.ts'],
        tsconfig: './test/tsconfig.json',
      },
    },
  },
  {
    ...source,
    test: {
      name: 'examples',
      root: './examples',
      include: ['**/*.test.ts'],
    },
  },
  // Node (fake-indexeddb), workerd (Durable Objects, the Worker) projects.
  'packages/*/vitest.config.ts',
  'apps/*/vitest.config.ts',
  // Real-browser projects run only where a Chromium is installed.
  ...(existsSync(chromiumPath)
    ? ['packages/*/vitest.browser.config.ts', 'apps/*/vitest.e2e.config.ts']
    : []),
];

if (!existsSync(chromiumPath)) {
  console.warn(
    `\n[eventkv] No Chromium at ${chromiumPath}: SKIPPING the real-browser test projects ` +
      '(install it with `apt-get install -y chromium`, or set CHROMIUM_PATH).\n',
  );
}

export default projects;
