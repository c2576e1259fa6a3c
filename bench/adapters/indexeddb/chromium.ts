import { runPageInChromium } from '../shared/page.js';
import type { IndexedDbBenchResult, PageInput } from './bench.js';

/** Runs the IndexedDB bench in headless Chromium (`indexeddb/browser.ts` in the page). */
export const runInChromium = (
  input: PageInput,
  log: (text: string) => void,
): Promise<IndexedDbBenchResult & { browser: string }> =>
  runPageInChromium('indexeddb/browser.ts', 'runIndexedDbBenchInPage', input, log);
