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

const pad = (n: number) => n.toString().padStart(16, '0');

/** The floor's own key of the global log's head row. */
const LOG_HEAD = '$log';

const SQL_SCHEMA = [
  // One row per event: its key, the record as JSON text, and one column per index key eventkv
  // keeps for it (the same strings): message id, log position and the four query indexes.
  `CREATE TABLE IF NOT EXISTS floor_events (key TEXT PRIMARY KEY, value TEXT NOT NULL,
    message TEXT NOT NULL, position TEXT NOT NULL, event_type TEXT NOT NULL,
    aggregate_type TEXT NOT NULL, user TEXT, correlation TEXT) WITHOUT ROWID`,
  // Unique, as eventkv's index keys are.
  ...['message', 'position', 'event_type', 'aggregate_type', 'user', 'correlation'].map(
    (column) =>
      `CREATE UNIQUE INDEX IF NOT EXISTS floor_events_${column} ON floor_events (${column})`,
  ),
  // Stream heads and the log head (under LOG_HEAD).
  'CREATE TABLE IF NOT EXISTS floor_heads (stream TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID',
].join('; ');

/**
 * Floor (c): an event table written by hand in the object's SQLite (`storage.sql`), with the
 * indexes eventkv keeps declared on it. Inside `storage.transactionSync`: one `SELECT` of the
 * stream's head and the log head, the same version check, one `INSERT` per event (key, the
 * record with its position as JSON text, and the six index keys as eventkv writes them:
 * message id, log position, event type, aggregate type, user, correlation; each column with
 * a `UNIQUE` index), and one `INSERT ... ON CONFLICT` for both heads. Read: one `SELECT` of
 * the range by key, each value `JSON.parse`d; `version()`: one `SELECT` of the head.
 */
const sqlFloor = (storage: DurableObjectStorage, t: RecordTemplate): AdapterSubject => ({
  name: 'sql table',
  role: 'floor',
  async create() {
    const sql = storage.sql;
    sql.exec(SQL_SCHEMA);
    const db = t.headKey('x').slice(0, t.headKey('x').indexOf('/'));
    return {
      async append(stream, events, expected) {
        storage.transactionSync(() => {
          let version = 0;
          let position = 0;
          for (const [name, value] of sql
            .exec(
              'SELECT stream, version FROM floor_heads WHERE stream IN (?1, ?2)',
              stream,
              LOG_HEAD,
            )
            .raw()) {
            if (name === LOG_HEAD) position = value as number;
            else version = value as number;
          }
          if (version !== expected) throw mismatch(stream, expected, version);
          events.forEach((event, i) => {
            const record = t.event(stream, event, expected + i + 1);
            const metadata = record.metadata as Record<string, string>;
            const at = pad(position + i + 1);
            const suffix = `${pad(Number(metadata.timestamp))}/${at}`;
            sql.exec(
              'INSERT INTO floor_events (key, value, message, position, event_type, aggregate_type, user, correlation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
              t.eventKey(stream, expected + i + 1),
              JSON.stringify({ ...record, position: position + i + 1 }),
              `${db}/i/Account/${stream}/${metadata.messageId}`,
              `${db}/g/${at}`,
              `${db}/x/eventType/${event.type}/${suffix}`,
              `${db}/x/aggregateType/Account/${suffix}`,
              `${db}/x/user/${metadata.userId}/${suffix}`,
              `${db}/x/correlation/${metadata.correlationId}/${suffix}`,
            );
          });
          sql.exec(
            'INSERT INTO floor_heads (stream, version) VALUES (?1, ?2), (?3, ?4) ON CONFLICT (stream) DO UPDATE SET version = excluded.version',
            stream,
            expected + events.length,
            LOG_HEAD,
            position + events.length,
          );
        });
      },
      async read(stream, from = 1, to = LAST) {
        let count = 0;
        for (const [value] of sql
          .exec(
            'SELECT value FROM floor_events WHERE key >= ?1 AND key <= ?2 ORDER BY key',
            t.eventKey(stream, from),
            t.eventKey(stream, to),
          )
          .raw()) {
          JSON.parse(value as string);
          count++;
        }
        return count;
      },
      async version(stream) {
        for (const [version] of sql
          .exec('SELECT version FROM floor_heads WHERE stream = ?1', stream)
          .raw()) {
          return version as number;
        }
        return 0;
      },
      dispose: done,
    };
  },
});

/** All five subjects over one object's storage. */
export const durableObjectSubjects = (
  storage: DurableObjectStorage,
  template: RecordTemplate,
): AdapterSubject[] => [
  eventkvSubject(storage, 'eventkv', 'eventkv', {}),
  eventkvSubject(storage, 'eventkv lean', 'eventkv lean', { globalLog: false, indexes: false }),
  asyncFloor(storage, template),
  syncFloor(storage, template),
  sqlFloor(storage, template),
];
