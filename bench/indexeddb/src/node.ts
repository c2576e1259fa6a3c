import 'fake-indexeddb/auto';
import { report, runSuite, type SuiteOptions } from './suite.js';

let n = 0;

/** fake-indexeddb in Node: every store gets its own database on the global factory. */
export const runNode = async (options: SuiteOptions): Promise<string> => {
  const rows = await runSuite(
    {
      label: 'fake-indexeddb',
      fresh: () => ({ name: `bench-${++n}`, indexedDB }),
    },
    options,
  );
  return report(`fake-indexeddb ${process.versions.node ? `(Node ${process.version})` : ''}`, rows);
};
