import type { TestProjectConfiguration } from 'vitest/config';

/**
 * The test projects of the monorepo, one per package and runtime. The root
 * `vitest.config.ts` consumes this list, so `pnpm test` runs all of them.
 */
export const projects: TestProjectConfiguration[] = [
  {
    resolve: { conditions: ['@eventkv/source'] },
    test: {
      name: 'core',
      root: './packages/core',
      include: ['test/**/*.test.ts'],
      typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    },
  },
  {
    resolve: { conditions: ['@eventkv/source'] },
    test: {
      name: 'examples',
      root: './examples',
      include: ['**/*.test.ts'],
    },
  },
];

export default projects;
