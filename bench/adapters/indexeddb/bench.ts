import {
  adapterRatios,
  checkTargets,
  type RatioResult,
  type TargetResult,
} from '../shared/report.js';
import { type AdapterRowResult, type RunSettings, runAdapterBench } from '../shared/run.js';
import { recordTemplate } from '../shared/template.js';
import { adapterWorkloads, type Sizes } from '../shared/workloads.js';
import { type Durability, INDEXEDDB_TARGETS, indexedDbSubjects } from './subjects.js';

export interface IndexedDbBenchInput {
  readonly sizes: Sizes;
  readonly durability: Durability;
  readonly settings: Omit<RunSettings, 'sampler'>;
}

/** What a page is handed: everything but the log, which the page wires to its console. */
export type PageInput = Omit<IndexedDbBenchInput, 'settings'> & {
  readonly settings: Omit<IndexedDbBenchInput['settings'], 'log'>;
};

export interface IndexedDbBenchResult {
  readonly subjects: readonly string[];
  readonly rows: readonly AdapterRowResult[];
  readonly ratios: readonly RatioResult[];
  readonly targets: readonly TargetResult[];
}

/**
 * The IndexedDB bench on whatever `indexedDB` the global scope has (fake-indexeddb in
 * Node, the real one in a page). Returns plain data, so a page can hand it to Node.
 */
export const runIndexedDbBench = async (
  input: IndexedDbBenchInput,
): Promise<IndexedDbBenchResult> => {
  const subjects = indexedDbSubjects(input.durability, await recordTemplate());
  const rows = await runAdapterBench(adapterWorkloads(input.sizes), subjects, input.settings);
  const names = subjects.map((s) => s.name);
  return {
    subjects: names,
    rows,
    ratios: adapterRatios(rows, ['eventkv', 'eventkv lean'], ['idb floor', 'idb floor+index']),
    targets: checkTargets(rows, INDEXEDDB_TARGETS),
  };
};
