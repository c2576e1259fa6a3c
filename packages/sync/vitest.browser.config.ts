import { playwright } from '@vitest/browser-playwright';
import { defineProject } from 'vitest/config';
import { chromiumArgs, chromiumPath, source } from '../../vitest.shared';

// The sync agent in Chromium: real Web Locks, BroadcastChannel and IndexedDB.
export default defineProject({
  ...source,
  test: {
    name: 'sync-browser',
    root: import.meta.dirname,
    include: ['test/**/*.browser.test.ts'],
    browser: {
      enabled: true,
      headless: true,
      screenshotFailures: false,
      provider: playwright({ launchOptions: { executablePath: chromiumPath, args: chromiumArgs } }),
      instances: [{ browser: 'chromium' }],
    },
  },
});
