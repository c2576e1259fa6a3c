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
 * The raw `idb` floor: the records eventkv writes, under its keys, in an object store with
 * out-of-line string keys. An append is one readwrite transaction that reads the head
 * (aborting on a version mismatch), puts each event (one `put` per event) and the new head;
 * a read is one `getAll` over the key range; `version()` is one point read of the head.
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

const pad = (n: number) => n.toString().padStart(16, '0');

/**
 * The same floor on the adapter's layout: values wrapped as `{ v, x }`, one unique
 * multi-entry index on `x`, each event put with the six index keys the defaults give it
 * (message id, log position, event type, aggregate type, user, correlation). What the
 * backend itself charges for keeping index keys, next to the plain floor.
 */
const indexedFloorSubject = (durability: Durability, template: RecordTemplate): AdapterSubject => ({
  name: 'idb floor+index',
  role: 'floor',
  async create(): Promise<AdapterStore> {
    const dbName = freshName('floor-index');
    const db = await openDB(dbName, 1, {
      upgrade(upgrading) {
        upgrading.createObjectStore(STORE).createIndex('indexKeys', 'x', {
          unique: true,
          multiEntry: true,
        });
      },
    });
    const headPrefix = template.headKey('');
    const dbPrefix = headPrefix.slice(0, headPrefix.indexOf('/h/'));
    let position = 0;
    return {
      async append(stream, events, expected) {
        const tx = db.transaction(STORE, 'readwrite', { durability });
        const headKey = template.headKey(stream);
        const head = (await tx.store.get(headKey)) as { v: { version: number } } | undefined;
        if ((head?.v.version ?? 0) !== expected) {
          tx.abort();
          throw new Error(`version mismatch on ${stream}`);
        }
        const time = pad(Date.now());
        events.forEach((event, i) => {
          const version = expected + i + 1;
          const record = template.event(stream, event, version);
          const at = pad(++position);
          const suffix = `/${time}/${at}`;
          const messageId = (record.metadata as { messageId: string }).messageId;
          const x = [
            `${dbPrefix}/i/Account/${stream}/${messageId}`,
            `${dbPrefix}/g/${at}`,
            `${dbPrefix}/x/eventType/${event.type}${suffix}`,
            `${dbPrefix}/x/aggregateType/Account${suffix}`,
            `${dbPrefix}/x/user/${event.metadata.userId}${suffix}`,
            `${dbPrefix}/x/correlation/${event.metadata.correlationId}${suffix}`,
          ];
          void tx.store.put({ v: record, x }, template.eventKey(stream, version));
        });
        void tx.store.put({ v: template.head(expected + events.length) }, headKey);
        await tx.done;
      },
      async read(stream, from = 1, to = LAST) {
        const range = IDBKeyRange.bound(
          template.eventKey(stream, from),
          template.eventKey(stream, to),
        );
        return (await db.getAll(STORE, range)).map((stored: { v: unknown }) => stored.v).length;
      },
      async version(stream) {
        const head = (await db.get(STORE, template.headKey(stream))) as
          | { v: { version: number } }
          | undefined;
        return head?.v.version ?? 0;
      },
      async dispose() {
        db.close();
        await deleteDB(dbName);
      },
    };
  },
});

/** eventkv with defaults, eventkv lean (no global log, no indexes) and the two raw floors. */
export const indexedDbSubjects = (
  durability: Durability,
  template: RecordTemplate,
): AdapterSubject[] => [
  eventkvSubject('eventkv', 'eventkv', durability, {}),
  eventkvSubject('eventkv lean', 'eventkv lean', durability, { globalLog: false, indexes: false }),
  floorSubject(durability, template),
  indexedFloorSubject(durability, template),
];

/**
 * The targets, against the plain floor (one put per event): appends with the
 * defaults (global log and all four indexes) >= 0.6x, lean (neither) >= 0.8x, one per call
 * and in batches of 100; reads >= 0.8x; `version()` >= 0.8x one raw point read.
 */
export const INDEXEDDB_TARGETS = [
  { row: 'W1a', subject: 'eventkv lean', versus: ['idb floor'], goal: 0.8 },
  { row: 'W1b', subject: 'eventkv lean', versus: ['idb floor'], goal: 0.8 },
  { row: 'W1a', subject: 'eventkv', versus: ['idb floor'], goal: 0.6 },
  { row: 'W1b', subject: 'eventkv', versus: ['idb floor'], goal: 0.6 },
  { row: 'W2a', subject: 'eventkv', versus: ['idb floor'], goal: 0.8 },
  { row: 'W2b', subject: 'eventkv', versus: ['idb floor'], goal: 0.8 },
  { row: 'W3b', subject: 'eventkv', versus: ['idb floor'], goal: 0.8 },
  { row: 'W4', subject: 'eventkv', versus: ['idb floor'], goal: 0.8 },
] as const;
