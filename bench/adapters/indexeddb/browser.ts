/**
 * The page side of the Chromium run: Node serves this bundle on 127.0.0.1 (IndexedDB
 * needs a real origin) and calls `runIndexedDbBench` through `page.evaluate`.
 */
import { type IndexedDbBenchResult, type PageInput, runIndexedDbBench } from './bench.js';

declare global {
  var runIndexedDbBenchInPage: (input: PageInput) => Promise<IndexedDbBenchResult>;
}

globalThis.runIndexedDbBenchInPage = (input) =>
  runIndexedDbBench({
    ...input,
    settings: { ...input.settings, log: (text) => console.log(text) },
  });
