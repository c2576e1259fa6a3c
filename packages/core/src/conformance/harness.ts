import { afterEach, expect } from 'vitest';
import type { Kv, KvCapabilities } from '../kv/types.js';
import type { Logger } from '../logger.js';
import type { EventStoreOptions } from '../options.js';
import { createEventStore, type EventStore } from '../store.js';
import { createManualClock, type ManualClock } from '../testing/manual-clock.js';
import type { EventShape } from '../types.js';

/** What an adapter's test file passes to `runConformanceSuite`. */
export interface ConformanceOptions {
  /** Label used in test names, e.g. `'memory'` or `'indexeddb (fake-indexeddb)'`. */
  readonly name: string;
  /** Returns a fresh, empty KV, isolated from every other one the suite creates. */
  readonly createKv: () => Kv | Promise<Kv>;
  /** Releases a KV after its test (close connections, delete databases). */
  readonly disposeKv?: (kv: Kv) => void | Promise<void>;
  /**
   * The capabilities the adapter declares. Tests of optional behaviour are registered
   * from these (never skipped at run time), and the suite checks the KV really declares them.
   */
  readonly capabilities: KvCapabilities;
  /** Multiplies the number of property-test runs (default 1; lower it for slow backends). */
  readonly propertyRunScale?: number;
}

/** The events the suite stores: the seeds' bank account. */
export type BankEvent =
  | { type: 'AccountOpened'; data: { owner: string; currency: string; openedAt: Date } }
  | { type: 'Deposited'; data: { amount: number } }
  | { type: 'Withdrawn'; data: { amount: number } }
  | { type: 'AccountClosed' };

export const deposit = (
  amount: number,
  metadata?: { messageId?: string; userId?: string; correlationId?: string },
) =>
  metadata
    ? { type: 'Deposited' as const, data: { amount }, metadata }
    : { type: 'Deposited' as const, data: { amount } };

export interface Harness {
  readonly kv: Kv;
  readonly clock: ManualClock;
  /** A store over this harness's KV and clock, with sequential ids (`id-1`, `id-2`, ...). */
  store<E extends EventShape = BankEvent>(overrides?: Partial<EventStoreOptions>): EventStore<E>;
}

/** Awaits an operation that must fail and returns its error for field-by-field assertions. */
export const failure = async (op: Promise<unknown> | (() => unknown)): Promise<unknown> => {
  try {
    await (typeof op === 'function' ? op() : op);
  } catch (error) {
    return error;
  }
  throw new Error('expected the operation to fail, but it succeeded');
};

/**
 * Like `failure`, and checks the error with a guard (guards match on `code`, which is
 * what users match on).
 */
export const caught = async <T>(
  op: Promise<unknown> | (() => unknown),
  is: (error: unknown) => error is T,
): Promise<T> => {
  const error = await failure(op);
  expect(is(error), `unexpected outcome: ${String(error)}`).toBe(true);
  return error as T;
};

/** A recording logger, for asserting on logged events. */
export const recordingLogger = () => {
  const entries: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, fields: Readonly<Record<string, unknown>>): void => {
      entries.push({ level, message, fields: { ...fields } });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return { logger, entries, events: () => entries.map((e) => e.fields.event) };
};

/**
 * Registers cleanup with the current test file and returns a function that builds a
 * fresh harness per test.
 */
export const useHarness = (options: ConformanceOptions): (() => Promise<Harness>) => {
  const live: Kv[] = [];
  afterEach(async () => {
    const kvs = live.splice(0);
    for (const kv of kvs) {
      await options.disposeKv?.(kv);
    }
  });
  return async () => {
    const kv = await options.createKv();
    live.push(kv);
    const clock = createManualClock();
    let next = 0;
    return {
      kv,
      clock,
      store: <E extends EventShape = BankEvent>(overrides: Partial<EventStoreOptions> = {}) =>
        createEventStore<E>({ kv, clock, generateId: () => `id-${++next}`, ...overrides }),
    };
  };
};
