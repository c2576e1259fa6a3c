import { createEventStore, type EventStoreOptions } from '@eventkv/core';
import { createDurableObjectKv } from '@eventkv/durable-object';
import type { Deposit } from '../../src/subject.js';
import { type AdapterStore, type AdapterSubject, eventkvStore } from '../shared/subject.js';
import type { RecordTemplate } from '../shared/template.js';

const LAST = Number.MAX_SAFE_INTEGER;
const done = async () => {};

const mismatch = (stream: string, expected: number, actual: number) =>
  new Error(`version mismatch on ${stream}: expected ${expected}, actual ${actual}`);

type Head = { readonly version: number } | undefined;

/** eventkv on `createDurableObjectKv(ctx.storage)`; handles opened per call. */
const eventkvSubject = (
  storage: DurableObjectStorage,
  name: string,
  role: 'eventkv' | 'eventkv lean',
  options: Omit<EventStoreOptions, 'kv'>,
): AdapterSubject => ({
  name,
  role,
  async create(): Promise<AdapterStore> {
    const kv = createDurableObjectKv(storage);
    return eventkvStore(createEventStore<Deposit>({ kv, ...options }), done);
  },
});

/** Floor (a): the async storage API: head check, then events + head in one `put(entries)`. */
const asyncFloor = (storage: DurableObjectStorage, t: RecordTemplate): AdapterSubject => ({
  name: 'async put/list',
  role: 'floor',
  async create() {
    return {
      async append(stream, events, expected) {
        const headKey = t.headKey(stream);
        const head = await storage.get<Head>(headKey);
        if ((head?.version ?? 0) !== expected) throw mismatch(stream, expected, head?.version ?? 0);
        const entries: Record<string, unknown> = {};
        events.forEach((event, i) => {
          const version = expected + i + 1;
          entries[t.eventKey(stream, version)] = t.event(stream, event, version);
        });
        entries[headKey] = t.head(expected + events.length);
        await storage.put(entries);
      },
      async read(stream, from = 1, to = LAST) {
        const range = { start: t.eventKey(stream, from), end: `${t.eventKey(stream, to)}\u0000` };
        return (await storage.list(range)).size;
      },
      async version(stream) {
        return (await storage.get<Head>(t.headKey(stream)))?.version ?? 0;
      },
      dispose: done,
    };
  },
});

/** Floor (b): the synchronous `ctx.storage.kv` API inside `transactionSync`, same head check. */
const syncFloor = (storage: DurableObjectStorage, t: RecordTemplate): AdapterSubject => ({
  name: 'sync kv',
  role: 'floor',
  async create() {
    return {
      async append(stream, events, expected) {
        storage.transactionSync(() => {
          const headKey = t.headKey(stream);
          const head = storage.kv.get<Head>(headKey);
          if ((head?.version ?? 0) !== expected)
            throw mismatch(stream, expected, head?.version ?? 0);
          events.forEach((event, i) => {
            const version = expected + i + 1;
            storage.kv.put(t.eventKey(stream, version), t.event(stream, event, version));
          });
          storage.kv.put(headKey, t.head(expected + events.length));
        });
      },
      async read(stream, from = 1, to = LAST) {
        const range = { start: t.eventKey(stream, from), end: `${t.eventKey(stream, to)}\u0000` };
        let count = 0;
        for (const _ of storage.kv.list(range)) count++;
        return count;
      },
      async version(stream) {
        return storage.kv.get<Head>(t.headKey(stream))?.version ?? 0;
      },
      dispose: done,
    };
  },
});

/** All four subjects over one object's storage. */
export const durableObjectSubjects = (
  storage: DurableObjectStorage,
  template: RecordTemplate,
): AdapterSubject[] => [
  eventkvSubject(storage, 'eventkv', 'eventkv', {}),
  eventkvSubject(storage, 'eventkv lean', 'eventkv lean', { globalLog: false, indexes: false }),
  asyncFloor(storage, template),
  syncFloor(storage, template),
];
