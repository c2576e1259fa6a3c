import { createEventStore, createMemoryKv, type EventStoreOptions } from '@eventkv/core';
import {
  type AccountState,
  type BenchStore,
  type DepositData,
  foldDeposits,
  type Subject,
} from './subject.js';

type AccountEvent = { readonly type: 'Deposited'; readonly data: DepositData };

/**
 * eventkv on the in-memory KV. Every operation opens its handle with `store.stream(ref)`,
 * as a command handler would, so handle creation is part of what is measured.
 */
const eventkvStore = (options: Omit<EventStoreOptions, 'kv'>): BenchStore => {
  const store = createEventStore<AccountEvent>({ kv: createMemoryKv(), ...options });
  const stream = (id: string) => store.stream({ type: 'Account', id });
  return {
    async append(id, events, expected) {
      await stream(id).append(events, { expectedVersion: expected });
    },
    async read(id, from, to) {
      const events = await stream(id).read({
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
      });
      return events.length;
    },
    version: (id) => stream(id).version(),
    async replay(id) {
      return foldDeposits(undefined, await stream(id).read());
    },
    async load(id) {
      const { snapshot, events } = await stream(id).load<AccountState>();
      return foldDeposits(snapshot?.state, events);
    },
    async snapshotEvery(id, every) {
      await stream(id).snapshotEvery<AccountState>(every, foldDeposits);
    },
  };
};

/** Default settings: global log and all four secondary indexes kept. */
export const eventkv: Subject = { name: 'eventkv', create: () => eventkvStore({}) };

/** Neither the global log nor the indexes: a write-heavy user's settings. */
export const eventkvLean: Subject = {
  name: 'eventkv lean',
  create: () => eventkvStore({ globalLog: false, indexes: false }),
};
