import { defaultClientConditions, defaultServerConditions } from 'vite';

/**
 * Workspace packages resolve to their TypeScript sources (see each package's `exports`).
 * Every test project spreads this into its config.
 */
export const source = {
  resolve: { conditions: ['@eventkv/source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['@eventkv/source', ...defaultServerConditions] } },
};

/** The Chromium that browser-mode tests and the demo's end-to-end tests drive. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launch flags for Chromium on a machine with no network beyond loopback and no GPU. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
