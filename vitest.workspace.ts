import { defaultClientConditions, defaultServerConditions } from 'vite';
import type { TestProjectConfiguration } from 'vitest/config';

/** Workspace packages resolve to their TypeScript sources (see each package's `exports`). */
const source = {
  resolve: { conditions: ['@eventkv/source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['@eventkv/source', ...defaultServerConditions] } },
};

/**
 * The test projects of the monorepo, one per package and runtime. The root
 * `vitest.config.ts` consumes this list, so `pnpm test` runs all of them.
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
];

export default projects;
