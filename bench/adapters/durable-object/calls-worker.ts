/**
 * The Worker of `bench:durable-object-calls`: one SQLite-backed object that runs one kind
 * of storage call `n` times per request, on the adapter's own tables (the same schema as
 * `packages/durable-object/src/kv/`), each time with new keys shaped like eventkv's.
 */
import { DurableObject } from 'cloudflare:workers';

const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS eventkv_index (ikey TEXT PRIMARY KEY, key TEXT NOT NULL) WITHOUT ROWID',
  'CREATE TABLE IF NOT EXISTS eventkv_small (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID',
  'CREATE VIEW IF NOT EXISTS eventkv_write (kind, a, b) AS SELECT NULL, NULL, NULL WHERE 0',
  'CREATE TRIGGER IF NOT EXISTS eventkv_write_index INSTEAD OF INSERT ON eventkv_write WHEN NEW.kind = 0 BEGIN INSERT INTO eventkv_index (ikey, key) VALUES (NEW.a, NEW.b); END',
  'CREATE TRIGGER IF NOT EXISTS eventkv_write_small INSTEAD OF INSERT ON eventkv_write WHEN NEW.kind = 1 BEGIN INSERT INTO eventkv_small (key, value) VALUES (NEW.a, NEW.b) ON CONFLICT (key) DO UPDATE SET value = excluded.value; END',
].join('; ');

const list = (n: number, row: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => row(i)).join(', ');
const viewSql = (index: number, small: number) =>
  `INSERT INTO eventkv_write (kind, a, b) VALUES ${[
    ...Array.from({ length: index }, (_, i) => `(0, ?${i + 2}, ?1)`),
    ...Array.from({ length: small }, (_, i) => `(1, ?${index + 2 + 2 * i}, ?${index + 3 + 2 * i})`),
  ].join(', ')}`;
const indexSql = (n: number) =>
  `INSERT INTO eventkv_index (ikey, key) VALUES ${list(n, (i) => `(?${i + 2}, ?1)`)}`;
const smallSql = (n: number) =>
  `INSERT INTO eventkv_small (key, value) VALUES ${list(n, (i) => `(?${2 * i + 1}, ?${2 * i + 2})`)} ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
const SELECT_ONE = 'SELECT value FROM eventkv_small WHERE key = ?1';
const SELECT_THREE = 'SELECT key, value FROM eventkv_small WHERE key IN (?1, ?2, ?3)';
/** The feed's statement today (`index-table.ts`). */
const INSERT_JSON = `INSERT INTO eventkv_index (ikey, key) SELECT i.value, r.value ->> 0 FROM json_each(?1) AS r, json_each(r.value) AS i WHERE i.key > 0`;
/** Records of 1 + 6 parameters, 14 per statement (98 parameters, under the limit of 100). */
const PER_STATEMENT = 14;
const paramsSql = (records: number) =>
  `INSERT INTO eventkv_index (ikey, key) VALUES ${list(records * 6, (i) => `(?${Math.floor(i / 6) * 7 + 2 + (i % 6)}, ?${Math.floor(i / 6) * 7 + 1})`)}`;

const pad = (n: number) => n.toString().padStart(16, '0');
const TIME = 1_765_000_000_000;
/** An event's six index keys with the defaults: message id, log position, four indexes. */
const indexKeys = (i: number): string[] => {
  const suffix = `${pad(TIME + i)}/${pad(i)}`;
  return [
    `bench/i/Account/acc-${i % 50}/${crypto.randomUUID()}`,
    `bench/g/${pad(i)}`,
    `bench/x/eventType/Deposited/${suffix}`,
    `bench/x/aggregateType/Account/${suffix}`,
    `bench/x/user/u-7/${suffix}`,
    `bench/x/correlation/c-${i}/${suffix}`,
  ];
};
const record = (i: number) => ({
  type: 'Deposited',
  version: i,
  data: { accountId: 'acc-42', amount: 125.5, currency: 'EUR', note: 'salary' },
  metadata: { messageId: `m-${i}`, schemaVersion: 1, timestamp: TIME, userId: 'u-7' },
  position: i,
});

let counter = 0;
/** 100 of the 1,000 events under `kv/r/`. */
const slice = (i: number) => {
  const from = 1 + (i % 900);
  return { start: `kv/r/${pad(from)}`, end: `kv/r/${pad(from + 100)}` };
};

export class CallsObject extends DurableObject {
  #ready = false;

  /** Runs the call `kind` `n` times; returns `n`. */
  async run(kind: string, n: number): Promise<number> {
    const storage = this.ctx.storage;
    const { sql, kv } = storage;
    if (!this.#ready) {
      sql.exec(SCHEMA);
      for (let h = 0; h < 50; h++) kv.put(`kv/h/${h}`, { version: h, timestamp: TIME });
      // A stream of 1,000 events for the lists.
      for (let v = 1; v <= 1000; v++) kv.put(`kv/r/${pad(v)}`, record(v));
      this.#ready = true;
    }
    const calls: Record<string, (i: number) => void> = {
      'empty transactionSync': () => storage.transactionSync(() => {}),
      'kv.get, outside a transaction': (i) => kv.get(`kv/h/${i % 50}`),
      '3 kv.get in a transactionSync': (i) =>
        storage.transactionSync(() => {
          kv.get(`kv/h/${i % 50}`);
          kv.get(`kv/l/${i % 50}`);
          kv.get('kv/m/log');
        }),
      'kv.get in a transactionSync': (i) => storage.transactionSync(() => kv.get(`kv/h/${i % 50}`)),
      'SELECT of 1 small row in a transactionSync': (i) =>
        storage.transactionSync(() => {
          for (const row of sql.exec(SELECT_ONE, `bench/h/Account/acc-${i % 50}`).raw()) void row;
        }),
      'SELECT of 1 small row and kv.list of 100 events, outside a transaction': (i) => {
        for (const row of sql.exec(SELECT_ONE, `bench/h/Account/acc-${i % 50}`).raw()) void row;
        for (const entry of kv.list(slice(i))) void entry;
      },
      'SELECT of 1 small row and kv.list of 100 events in a transactionSync': (i) =>
        storage.transactionSync(() => {
          for (const row of sql.exec(SELECT_ONE, `bench/h/Account/acc-${i % 50}`).raw()) void row;
          for (const entry of kv.list(slice(i))) void entry;
        }),
      'kv.put of an event in a transactionSync': (i) =>
        storage.transactionSync(() => kv.put(`kv/e/${pad(i)}`, record(i))),
      '2 kv.put of heads in a transactionSync': (i) =>
        storage.transactionSync(() => {
          kv.put(`kv/h/${i % 50}`, { version: i, timestamp: TIME });
          kv.put('kv/m/log', { position: i });
        }),
      'SELECT of 1 small row, outside a transaction': (i) => {
        for (const row of sql.exec(SELECT_ONE, `bench/h/Account/acc-${i % 50}`).raw()) void row;
      },
      'SELECT of 3 small rows in a transactionSync': (i) =>
        storage.transactionSync(() => {
          const head = `bench/h/Account/acc-${i % 50}`;
          for (const row of sql.exec(SELECT_THREE, head, `bench/l/${i % 50}`, 'bench/m/log').raw())
            void row;
        }),
      'upsert of 2 small rows in a transactionSync': (i) =>
        storage.transactionSync(() =>
          sql.exec(
            smallSql(2),
            `bench/h/Account/acc-${i % 50}`,
            `{"version":${i}}`,
            'bench/m/log',
            `{"position":${i}}`,
          ),
        ),
      '6 index keys, one INSERT, in a transactionSync': (i) =>
        storage.transactionSync(() => sql.exec(indexSql(6), `bench/e/${pad(i)}`, ...indexKeys(i))),
      '6 index keys, one INSERT, outside a transaction': (i) =>
        sql.exec(indexSql(6), `bench/e/${pad(i)}`, ...indexKeys(i)),
      '6 index keys, six INSERTs, in a transactionSync': (i) =>
        storage.transactionSync(() => {
          for (const key of indexKeys(i)) sql.exec(indexSql(1), `bench/e/${pad(i)}`, key);
        }),
      '6 index keys, six INSERTs, outside a transaction': (i) => {
        for (const key of indexKeys(i)) sql.exec(indexSql(1), `bench/e/${pad(i)}`, key);
      },
      '6 keys on one page (consecutive), one INSERT, in a transactionSync': (i) =>
        storage.transactionSync(() =>
          sql.exec(
            indexSql(6),
            `bench/e/${pad(i)}`,
            ...[0, 1, 2, 3, 4, 5].map((k) => `bench/q/${pad(i)}/${k}`),
          ),
        ),
      'view: 6 index keys + 2 small rows in a transactionSync': (i) =>
        storage.transactionSync(() =>
          sql.exec(
            viewSql(6, 2),
            `bench/e/${pad(i)}`,
            ...indexKeys(i),
            `bench/h/Account/acc-${i % 50}`,
            `{"version":${i}}`,
            'bench/m/log',
            `{"position":${i}}`,
          ),
        ),
      'two statements: the same rows in a transactionSync': (i) =>
        storage.transactionSync(() => {
          sql.exec(indexSql(6), `bench/e/${pad(i)}`, ...indexKeys(i));
          sql.exec(
            smallSql(2),
            `bench/h/Account/acc-${i % 50}`,
            `{"version":${i}}`,
            'bench/m/log',
            `{"position":${i}}`,
          );
        }),
      'feed: 100 records x 6 index keys, JSON + json_each': (i) =>
        storage.transactionSync(() => {
          const records: string[] = [];
          for (let e = 0; e < 100; e++) {
            const at = i * 100 + e;
            records.push(JSON.stringify([`bench/e/${pad(at)}`, ...indexKeys(at)]));
          }
          sql.exec(INSERT_JSON, `[${records.join(',')}]`);
        }),
      'feed: 100 records x 6 index keys, bound parameters': (i) =>
        storage.transactionSync(() => {
          for (let from = 0; from < 100; from += PER_STATEMENT) {
            const records = Math.min(PER_STATEMENT, 100 - from);
            const params: string[] = [];
            for (let e = 0; e < records; e++) {
              const at = i * 100 + from + e;
              params.push(`bench/e/${pad(at)}`, ...indexKeys(at));
            }
            sql.exec(paramsSql(records), ...params);
          }
        }),
    };
    const call = calls[kind];
    if (call === undefined)
      throw new Error(`unknown call ${kind}; known: ${Object.keys(calls).join('; ')}`);
    for (let j = 0; j < n; j++) call(++counter);
    return n;
  }
}

interface Env {
  readonly CALLS: DurableObjectNamespace<CallsObject>;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const stub = env.CALLS.get(env.CALLS.idFromName('calls'));
    try {
      const n = Number(url.searchParams.get('n'));
      return Response.json(await stub.run(url.searchParams.get('kind') ?? '', n));
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
};
