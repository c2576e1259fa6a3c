import { describe } from 'vitest';
import { appendReadTests } from './append-read.js';
import { concurrencyTests } from './concurrency.js';
import { errorTests } from './errors.js';
import { expectedVersionTests } from './expected-version.js';
import { globalLogTests } from './global-log.js';
import {
  probeCapabilities,
  type StoreConformanceOptions,
  type StoreHarness,
  useStoreHarness,
} from './harness.js';
import { idempotencyTests } from './idempotency.js';
import { logSubscriptionTests } from './log-subscriptions.js';
import { modelTests } from './model.js';
import { payloadTests } from './payload.js';
import { queryTests } from './queries.js';
import { resumeTests } from './resume.js';
import { sessionExpiryTests } from './session-expiry.js';
import { sessionTests } from './sessions.js';
import { snapshotTests } from './snapshots.js';
import { subscriptionTests } from './subscriptions.js';

export type { BankEvent, StoreConformanceOptions, StoreHarness } from './harness.js';

/** A group of tests: registers its `describe` block from the options and the harness. */
export type StoreTestGroup = (options: StoreConformanceOptions, harness: StoreHarness) => void;

/** The groups, in the order they run. */
const GROUPS: readonly StoreTestGroup[] = [
  appendReadTests,
  expectedVersionTests,
  idempotencyTests,
  sessionTests,
  sessionExpiryTests,
  resumeTests,
  snapshotTests,
  queryTests,
  globalLogTests,
  subscriptionTests,
  logSubscriptionTests,
  errorTests,
  concurrencyTests,
  payloadTests,
  modelTests,
];

/**
 * The store conformance suite: the behaviour of anything that implements `EventStore`
 * (a store over a KV, the HTTP client, the Durable Object caller), asserted through the
 * public API only, on real time. Call it from a test file with a factory of fresh stores,
 * each with an empty default database of its own:
 *
 * @example
 * runStoreConformanceSuite({ name: 'memory', createStore: () => createEventStore({ kv: createMemoryKv() }) });
 *
 * Tests of the global log and of each index are registered from `store.capabilities`,
 * read once from a store created for that purpose; what a store does not declare, it
 * must refuse.
 *
 * To add a group: write `my-group.ts` exporting a `StoreTestGroup`
 * (`(options, harness) => void`) that opens one `describe` block and gets each test's
 * store from `harness.store()` (fresh, disposed after the test; `harness.capabilities`
 * says what to register), then append it to `GROUPS` above.
 */
export const runStoreConformanceSuite = (options: StoreConformanceOptions): void => {
  describe(`eventkv store conformance: ${options.name}`, async () => {
    const harness = useStoreHarness(options, await probeCapabilities(options));
    for (const group of GROUPS) group(options, harness);
  });
};
