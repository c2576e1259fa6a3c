import { afterEach, expect } from 'vitest';
import type { BankEvent } from '../conformance/harness.js';
import type { EventStore } from '../store.js';
import type { EventShape, RecordedEvent, StoreCapabilities } from '../types.js';

export type { BankEvent } from '../conformance/harness.js';
export { caught, deposit, failure } from '../conformance/harness.js';

/** What a store's test file passes to `runStoreConformanceSuite`. */
export interface StoreConformanceOptions {
  /** Label used in test names, e.g. `'memory'` or `'http (workerd)'`. */
  readonly name: string;
  /**
   * A fresh store, isolated from every other one the suite creates (its own default
   * database or its own storage). The suite never names a database in refs.
   */
  readonly createStore: () => EventStore<BankEvent> | Promise<EventStore<BankEvent>>;
  /** Releases a store after its test (close connections, delete databases). */
  readonly disposeStore?: (store: EventStore<BankEvent>) => void | Promise<void>;
  /** Multiplies property-test runs (default 1). */
  readonly propertyRunScale?: number;
  /**
   * The lease of the sessions that tests wait out (default `SHORT_LEASE_MS`, 300 ms). A
   * test uses such a session for a few calls before it expires: a store whose calls are
   * requests into Durable Objects sets more, so that a loaded machine does not expire it
   * early.
   */
  readonly shortLeaseMs?: number;
}

/** What every group of the suite gets besides the options. */
export interface StoreHarness {
  /**
   * What the stores under test declare, read once at registration from a store made for
   * that purpose: tests of the global log and of each index are registered from it.
   */
  readonly capabilities: StoreCapabilities;
  /** Multiplies property-test runs (the option, default 1). */
  readonly propertyRunScale: number;
  /** The lease of the sessions that tests wait out (the option, default `SHORT_LEASE_MS`). */
  readonly shortLeaseMs: number;
  /**
   * A fresh store whose default database is empty, disposed after the current test.
   * Checks that it declares the same capabilities as the store they were read from.
   */
  store(): Promise<EventStore<BankEvent>>;
}

/** The stream most tests use: each store's default database is fresh, so it starts empty. */
export const REF = { type: 'BankAccount', id: '42' } as const;

/** A lease short enough to wait out in a test, long enough to use a session within. */
export const SHORT_LEASE_MS = 300;

/** How often remote stores' subscriptions poll in the suite. */
export const POLL_MS = 20;

/** Long enough for a subscription to look for news (poll, wait) several times. */
export const QUIET_MS = POLL_MS * 10;

const timers = globalThis as unknown as { setTimeout(f: () => void, ms: number): unknown };

/** A real pause (remote stores run on real time; there is no clock to advance). */
export const pause = (ms: number): Promise<void> =>
  new Promise((resolve) => timers.setTimeout(resolve, ms));

/**
 * Waits until `done()` holds, polling every few milliseconds, and fails the test with
 * `what` when it does not within `timeoutMs` (generous: on a loaded machine a remote
 * store's poll can take a while; a passing test waits only as long as it needs).
 */
export const eventually = async (
  what: string,
  done: () => boolean,
  timeoutMs = 10_000,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await pause(5);
  expect(done(), what).toBe(true);
};

/** Amounts of the deposits among `events` (other events as `undefined`). */
export const amounts = (events: readonly { type: string; data?: unknown }[]) =>
  events.map((e) => (e.type === 'Deposited' ? (e.data as { amount: number }).amount : undefined));

export const versions = (events: readonly { version: number }[]) => events.map((e) => e.version);

/**
 * Collects what a subscription (`stream.subscribe`, `store.subscribeLog`) delivers, batch by
 * batch, with the views the tests compare.
 */
export const collector = () => {
  const batches: RecordedEvent<BankEvent>[][] = [];
  return {
    batches,
    listener: (events: RecordedEvent<BankEvent>[]) => {
      batches.push(events);
    },
    events: () => batches.flat(),
    versions: () => batches.flat().map((e) => e.version),
    positions: () => batches.flat().map((e) => e.position as number),
    amounts: () => amounts(batches.flat()),
  };
};

/** Reads the capabilities a store declares, from a store created (and disposed) for it. */
export const probeCapabilities = async (
  options: StoreConformanceOptions,
): Promise<StoreCapabilities> => {
  const store = await options.createStore();
  try {
    const { readLog, indexes, databaseReads } = store.capabilities;
    return Object.freeze({
      readLog,
      indexes: Object.freeze([...indexes]),
      ...(databaseReads === undefined ? {} : { databaseReads }),
    });
  } finally {
    await options.disposeStore?.(store);
  }
};

/**
 * Registers the disposal of every store a test creates (after that test) with the
 * enclosing `describe`, and returns the harness the groups use.
 */
export const useStoreHarness = (
  options: StoreConformanceOptions,
  capabilities: StoreCapabilities,
): StoreHarness => {
  const live: EventStore<BankEvent>[] = [];
  afterEach(async () => {
    for (const store of live.splice(0)) await options.disposeStore?.(store);
  });
  return {
    capabilities,
    propertyRunScale: options.propertyRunScale ?? 1,
    shortLeaseMs: options.shortLeaseMs ?? SHORT_LEASE_MS,
    async store() {
      const store = await options.createStore();
      live.push(store);
      expect(
        { readLog: store.capabilities.readLog, indexes: [...store.capabilities.indexes] },
        'every store of a run declares the same capabilities',
      ).toEqual({ readLog: capabilities.readLog, indexes: [...capabilities.indexes] });
      return store;
    },
  };
};

/**
 * Events as a database-wide read should show them, for comparing with stream reads: the
 * same, except that from a feed (`databaseReads: 'feed'`) positions are the feed's own and
 * streams carry none.
 */
export const asStreamsHoldThem = <E extends EventShape>(
  h: StoreHarness,
  events: readonly RecordedEvent<E>[],
): RecordedEvent<E>[] =>
  h.capabilities.databaseReads === 'feed'
    ? events.map(({ position: _position, ...event }) => event as RecordedEvent<E>)
    : [...events];
