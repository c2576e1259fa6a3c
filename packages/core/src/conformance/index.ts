import { describe } from 'vitest';
import { appendReadTests } from './append-read.js';
import type { ConformanceOptions } from './harness.js';
import { idempotencyTests } from './idempotency.js';
import { kvContractTests } from './kv-contract.js';
import { modelTests } from './model.js';
import { queryTests } from './queries.js';
import { resumeTests } from './resume.js';
import { sessionTests } from './sessions.js';
import { snapshotTests } from './snapshots.js';
import { subscriptionTests } from './subscriptions.js';

export type { BankEvent, ConformanceOptions, Harness } from './harness.js';
export { caught, failure, recordingLogger, useHarness } from './harness.js';

/**
 * The adapter conformance suite: the KV contract and every store behaviour, run through
 * the public API against a fresh KV per test. Call it from an adapter's test file:
 *
 * @example
 * runConformanceSuite({ name: 'memory', createKv: () => createMemoryKv(), capabilities: createMemoryKv().capabilities });
 */
export const runConformanceSuite = (options: ConformanceOptions): void => {
  describe(`eventkv conformance: ${options.name}`, () => {
    kvContractTests(options);
    appendReadTests(options);
    idempotencyTests(options);
    sessionTests(options);
    resumeTests(options);
    snapshotTests(options);
    queryTests(options);
    subscriptionTests(options);
    modelTests(options);
  });
};
