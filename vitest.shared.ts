import { defaultClientConditions, defaultServerConditions } from 'vite';

/**
 * Workspace packages resolve to their TypeScript sources (see each package's `exports`).
 * Every test project spreads this into its config.
 */
export const source = {
  resolve: { conditions: ['@eventkv/source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['@eventkv/source', ...defaultServerConditions] } },
};

export { chromiumArgs, chromiumPath } from './chromium.shared';
