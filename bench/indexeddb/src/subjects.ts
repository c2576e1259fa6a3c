import { createEventStore, type EventStoreOptions } from '@eventkv/core';
import { createIndexedDbKv } from '@eventkv/indexeddb';
import { openDB } from 'idb';
import type { BenchStore, Deposit, DepositData } from '../../src/subject.js';

/** Where a subject's database lives: a fresh, empty database per call. */
export interface Backend {
  readonly label: string;
  fresh(): { name: string; indexedDB: IDBFactory };
}

export interface IdbSubject {
  readonly name: string;
  create(backend: Backend): Promise<BenchStore>;
  /** Only the floor: one raw point read of the head, the reference for `version()`. */
  readonly pointRead?: true;
}

type AccountEvent = { readonly type: 'Deposited'; readonly data: DepositData };

const eventkvStore = async (
  backend: Backend,
  options: Omit<EventStoreOptions, 'kv'>,
): Promise<BenchStore> => {
  const kv = createIndexedDbKv(backend.fresh());
  const store = createEventStore<AccountEvent>({ kv, ...options });
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
    async replay() {
      throw new Error('not measured here');
    },
  };
};

/** eventkv with default settings: global log and four secondary indexes. */
export const eventkv: IdbSubject = {
  name: 'eventkv',
  create: (backend) => eventkvStore(backend, {}),
};

/** Neither log nor indexes. */
export const eventkvLean: IdbSubject = {
  name: 'eventkv lean',
  create: (backend) => eventkvStore(backend, { globalLog: false, indexes: false }),
};

const pad = (n: number) => n.toString().padStart(16, '0');
const eventKey = (stream: string, version: number) => `default/e/Account/${stream}/${pad(version)}`;
const headKey = (stream: string) => `default/h/Account/${stream}`;

/**
 * The floor: what `idb` alone costs for the same records under the same string keys. One
 * readwrite transaction per append that reads the head, checks the expected version, puts
 * the events and the head; reads are one key-range `getAll`; `version()` one point read.
 */
export const idbFloor: IdbSubject = {
  name: 'idb floor',
  pointRead: true,
  async create(backend) {
    const { name, indexedDB } = backend.fresh();
    // idb's openDB uses the global factory; the backend's is that one (see the entries).
    void indexedDB;
    const db = await openDB(name, 1, {
      upgrade: (d) => {
        d.createObjectStore('kv');
      },
    });
    return {
      async append(stream, events: readonly Deposit[], expected) {
        const tx = db.transaction('kv', 'readwrite', { durability: 'strict' });
        const head = (await tx.store.get(headKey(stream))) as { version: number } | undefined;
        if ((head?.version ?? 0) !== expected) {
          tx.abort();
          throw new Error(`version mismatch on ${stream}`);
        }
        events.forEach((event, i) => {
          void tx.store.put(event, eventKey(stream, expected + i + 1));
        });
        void tx.store.put({ version: expected + events.length, at: Date.now() }, headKey(stream));
        await tx.done;
      },
      async read(stream, from = 1, to = Number.MAX_SAFE_INTEGER) {
        const range = IDBKeyRange.bound(eventKey(stream, from), eventKey(stream, to));
        return (await db.getAll('kv', range)).length;
      },
      async version(stream) {
        const head = (await db.get('kv', headKey(stream))) as { version: number } | undefined;
        return head?.version ?? 0;
      },
      async replay() {
        throw new Error('not measured here');
      },
    };
  },
};
