import type { EventStore } from '@eventkv/core';
import type { Deposit } from '../../src/subject.js';

/**
 * What the adapter benchmarks drive: eventkv on an adapter, or a raw floor written
 * directly against the same backend. Versions are 1-based; `expected` is the version
 * before the append.
 */
export interface AdapterStore {
  append(stream: string, events: readonly Deposit[], expected: number): Promise<void>;
  /** Reads versions `[from, to]` (default: all) and returns how many events came back. */
  read(stream: string, from?: number, to?: number): Promise<number>;
  version(stream: string): Promise<number>;
  /** Releases the backend (closes and deletes a database). */
  dispose(): Promise<void>;
}

export interface AdapterSubject {
  /** Short column name. */
  readonly name: string;
  /** `floor`: a raw use of the backend that the targets compare eventkv against. */
  readonly role: 'eventkv' | 'eventkv lean' | 'floor';
  /** An empty store on a fresh database (or key prefix). */
  create(): Promise<AdapterStore>;
}

/**
 * eventkv as an `AdapterStore`: the same calls for every adapter, a stream handle opened
 * per call as a command handler would.
 */
export const eventkvStore = (
  store: EventStore<Deposit>,
  dispose: () => Promise<void>,
): AdapterStore => {
  const stream = (id: string) => store.stream({ type: 'Account', id });
  return {
    async append(id, events, expected) {
      await stream(id).append(events, { expectedVersion: expected });
    },
    async read(id, from, to) {
      const range = {
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
      };
      return (await stream(id).read(range)).length;
    },
    version: (id) => stream(id).version(),
    dispose,
  };
};
