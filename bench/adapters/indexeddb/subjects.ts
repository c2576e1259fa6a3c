import { createEventStore, type EventStoreOptions } from '@eventkv/core';
import { createIndexedDbKv } from '@eventkv/indexeddb';
import { deleteDB, openDB } from 'idb';
import type { Deposit } from '../../src/subject.js';
import { type AdapterStore, type AdapterSubject, eventkvStore } from '../shared/subject.js';
import type { RecordTemplate } from '../shared/template.js';

export type Durability = 'strict' | 'relaxed';

/** The object store name the adapter uses (its schema), so the floor has the same layout. */
const STORE = 'eventkv';
const LAST = Number.MAX_SAFE_INTEGER;

let databases = 0;
const freshName = (label: string) => `bench-${label}-${Date.now()}-${++databases}`;

/** eventkv on `createIndexedDbKv`, a fresh database per store; handles opened per call. */
const eventkvSubject = (
  name: string,
  role: 'eventkv' | 'eventkv lean',
  durability: Durability,
  options: Omit<EventStoreOptions, 'kv'>,
): AdapterSubject => ({
  name,
  role,
  async create(): Promise<AdapterStore> {
    const dbName = freshName('eventkv');
    const kv = createIndexedDbKv({ name: dbName, durability });
    return eventkvStore(createEventStore<Deposit>({ kv, ...options }), async () => {
      await kv.close();
      await deleteDB(dbName);
    });
  },
});

/**
 * The raw `idb` floor: the records eventkv writes, under its keys, in an object store of
 * the same shape. An append is one readwrite transaction that checks the head, puts the
 * events and the new head; a read is one `getAll` over the key range; `version()` is one
 * point read of the head.
 */
const floorSubject = (durability: Durability, template: RecordTemplate): AdapterSubject => ({
  name: 'idb floor',
  role: 'floor',
  async create(): Promise<AdapterStore> {
    const dbName = freshName('floor');
    const db = await openDB(dbName, 1, {
      upgrade(upgrading) {
        upgrading.createObjectStore(STORE);
      },
    });
    return {
      async append(stream, events, expected) {
        const tx = db.transaction(STORE, 'readwrite', { durability });
        const headKey = template.headKey(stream);
        const head = (await tx.store.get(headKey)) as { version: number } | undefined;
        if ((head?.version ?? 0) !== expected) {
          tx.abort();
          throw new Error(`version mismatch on ${stream}`);
        }
        events.forEach((event, i) => {
          const version = expected + i + 1;
          void tx.store.put(
            template.event(stream, event, version),
            template.eventKey(stream, version),
          );
        });
        void tx.store.put(template.head(expected + events.length), headKey);
        await tx.done;
      },
      async read(stream, from = 1, to = LAST) {
        const range = IDBKeyRange.bound(
          template.eventKey(stream, from),
          template.eventKey(stream, to),
        );
        return (await db.getAll(STORE, range)).length;
      },
      async version(stream) {
        const head = (await db.get(STORE, template.headKey(stream))) as
          | { version: number }
          | undefined;
        return head?.version ?? 0;
      },
      async dispose() {
        db.close();
        await deleteDB(dbName);
      },
    };
  },
});

/** eventkv with defaults, eventkv lean (no global log, no indexes) and the raw floor. */
export const indexedDbSubjects = (
  durability: Durability,
  template: RecordTemplate,
): AdapterSubject[] => [
  eventkvSubject('eventkv', 'eventkv', durability, {}),
  eventkvSubject('eventkv lean', 'eventkv lean', durability, { globalLog: false, indexes: false }),
  floorSubject(durability, template),
];

export const INDEXEDDB_TARGETS = [
  { row: 'W1a', subject: 'eventkv lean', versus: ['idb floor'], goal: 0.75 },
  { row: 'W1b', subject: 'eventkv lean', versus: ['idb floor'], goal: 0.75 },
  { row: 'W1a', subject: 'eventkv', versus: ['idb floor'], goal: 0.5 },
  { row: 'W1b', subject: 'eventkv', versus: ['idb floor'], goal: 0.5 },
  { row: 'W2a', subject: 'eventkv', versus: ['idb floor'], goal: 0.8 },
  { row: 'W2b', subject: 'eventkv', versus: ['idb floor'], goal: 0.8 },
  { row: 'W3b', subject: 'eventkv', versus: ['idb floor'], goal: 0.8 },
  { row: 'W4', subject: 'eventkv', versus: ['idb floor'], goal: 0.8 },
] as const;
