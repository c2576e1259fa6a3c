/**
 * The page side of the Chromium pull run: Node serves this bundle on 127.0.0.1 (IndexedDB
 * needs a real origin) and calls `runPullBench` through `page.evaluate`.
 */
import { type PullInput, type PullResult, runPullBench } from './pull.js';

declare global {
  var runPullBenchInPage: (input: PullInput) => Promise<PullResult>;
}

globalThis.runPullBenchInPage = (input) => runPullBench(input, (text) => console.log(text));
