import { report, runSuite, type SuiteOptions } from './suite.js';

const run = Date.now().toString(36);
let n = 0;

declare global {
  interface Window {
    runBench(options: SuiteOptions): Promise<string>;
  }
}

/** Real IndexedDB in the page: every store gets its own database. */
window.runBench = async (options) => {
  const rows = await runSuite(
    { label: 'Chromium', fresh: () => ({ name: `bench-${run}-${++n}`, indexedDB }) },
    { ...options, log: (line) => console.log(line) },
  );
  return report(`Chromium ${navigator.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? ''}`, rows);
};
