import { runPageInChromium } from '../shared/page.js';
import type { PullInput, PullResult } from './pull.js';

/** Runs the pull bench in headless Chromium (`sync/browser.ts` in the page). */
export const runPullInChromium = (
  input: PullInput,
  log: (text: string) => void,
): Promise<PullResult & { browser: string }> =>
  runPageInChromium('sync/browser.ts', 'runPullBenchInPage', input, log);
