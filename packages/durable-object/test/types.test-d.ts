// Checked by `pnpm typecheck` (tsc -p test/tsconfig.json): what users of the package see.
import type { EventStore } from '@eventkv/core';
import { createDurableObjectEventStore, EventStoreObject } from '../src/index.js';

interface Env {
  EVENT_STORE: DurableObjectNamespace<LedgerStore>;
  SECRET: string;
}

/** A subclass with an Env of its own, as a Worker deploys it. */
export class LedgerStore extends EventStoreObject<Env> {
  protected override storeOptions() {
    return { sessionTimeoutMs: 30_000 };
  }
}

type Ledger = { type: 'Deposited'; data: { amount: number } };

// The binding of a subclass is accepted, and the store is typed by its events.
export const ledger = (env: Env): EventStore<Ledger> =>
  createDurableObjectEventStore<Ledger>(env.EVENT_STORE);

// @ts-expect-error the namespace of a class that is not an EventStoreObject is refused
export const other = (ns: DurableObjectNamespace) => createDurableObjectEventStore(ns);
