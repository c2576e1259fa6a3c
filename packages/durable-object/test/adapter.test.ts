import { runInDurableObject } from 'cloudflare:test';
import {
  InvalidArgumentError,
  isInvalidArgumentError,
  isKvConditionError,
  isStorageError,
  isStorageFullError,
  type Kv,
} from '@eventkv/core';
import { failure } from '@eventkv/core/conformance';
import { type KvScan, kvCommit, kvGet, kvScan } from '@eventkv/core/kv';
import { describe, expect, it } from 'vitest';
import { createDurableObjectKv, DURABLE_OBJECT_MAX_ENTRY_BYTES } from '../src/index.js';
import { freshHost } from './in-object-kv.js';

/** Runs `body` inside a fresh object, with the adapter over its storage. */
const inFreshObject = <T>(body: (kv: Kv, storage: DurableObjectStorage) => Promise<T> | T) =>
  runInDurableObject(freshHost(), (_instance, state) =>
    body(createDurableObjectKv(state.storage), state.storage),
  );

const stored = (storage: DurableObjectStorage) => [...storage.kv.list()].map(([key]) => key);

// A function cannot be serialized: the platform refuses the put it is in, mid-commit.
const unstorable = () => 'not serializable';

describe('commit is all-or-nothing', () => {
  it('a commit whose third put fails leaves none of its puts or deletes behind', async () => {
    const keys = await inFreshObject(async (kv, storage) => {
      await kvCommit(kv, { puts: [{ key: 'keep', value: 1 }] });
      const error = await failure(() =>
        kvCommit(kv, {
          puts: [
            { key: 'a', value: 1 },
            { key: 'b', value: 2 },
            { key: 'c', value: unstorable },
          ],
          deletes: ['keep'],
        }),
      );
      expect(isStorageError(error)).toBe(true);
      expect((error as Error).cause).toBeInstanceOf(Error);
      return stored(storage);
    });
    expect(keys).toEqual(['keep']);
  });

  it('control: the same puts outside transactionSync DO leave the first ones behind', async () => {
    // Shows the test above would catch an adapter that wrote without the transaction.
    const keys = await inFreshObject((_kv, storage) => {
      expect(() => {
        storage.kv.put('a', 1);
        storage.kv.put('b', 2);
        storage.kv.put('c', unstorable);
      }).toThrow();
      return stored(storage);
    });
    expect(keys).toEqual(['a', 'b']);
  });

  it('a failed check applies nothing and names the key', async () => {
    const result = await inFreshObject(async (kv, storage) => {
      await kvCommit(kv, { puts: [{ key: 'head', value: { version: 1 } }] });
      const error = await failure(() =>
        kvCommit(kv, {
          checks: [{ key: 'head', equals: { version: 2 } }],
          puts: [{ key: 'event', value: 'x' }],
          deletes: ['head'],
        }),
      );
      return { error, keys: stored(storage) };
    });
    expect(isKvConditionError(result.error)).toBe(true);
    expect((result.error as { keys: string[] }).keys).toEqual(['head']);
    expect(result.keys).toEqual(['head']);
  });
});

describe('index keys in the index table', () => {
  const rows = (storage: DurableObjectStorage) =>
    storage.sql
      .exec<{ ikey: string; key: string }>('SELECT ikey, key FROM eventkv_index ORDER BY ikey')
      .toArray()
      .map(({ ikey, key }) => [ikey, key]);
  const byIndex = async (kv: Kv, range: Omit<KvScan, 'by'> = {}) =>
    (await kvScan(kv, { ...range, by: 'index' })).map((e) => [e.indexKey, e.key]);

  it('are rows of eventkv_index beside the records, written in the same transaction', async () => {
    const result = await inFreshObject(async (kv, storage) => {
      await kvCommit(kv, {
        puts: [
          { key: 'r/1', value: 1, indexKeys: ['u/a', 'g/1'] },
          { key: 'r/2', value: 2, indexKeys: ['g/2'] },
        ],
      });
      // A put the platform refuses, after the index keys went in: all of it rolls back.
      const error = await failure(() =>
        kvCommit(kv, { puts: [{ key: 'r/3', value: unstorable, indexKeys: ['g/3'] }] }),
      );
      return { error, rows: rows(storage), keys: stored(storage) };
    });
    expect(isStorageError(result.error)).toBe(true);
    expect(result.rows).toEqual([
      ['g/1', 'r/1'],
      ['g/2', 'r/2'],
      ['u/a', 'r/1'],
    ]);
    expect(result.keys).toEqual(['r/1', 'r/2']);
  });

  it('a clash names exactly the index keys that are taken, including one declared twice in the write', async () => {
    const result = await inFreshObject(async (kv, storage) => {
      await kvCommit(kv, { puts: [{ key: 'r/1', value: 1, indexKeys: ['u/a', 'g/1'] }] });
      const one = await failure(() =>
        kvCommit(kv, { puts: [{ key: 'r/2', value: 2, indexKeys: ['g/2', 'u/a', 'x/2'] }] }),
      );
      const twice = await failure(() =>
        kvCommit(kv, {
          puts: [
            { key: 'r/3', value: 3, indexKeys: ['g/3', 'x/same'] },
            { key: 'r/4', value: 4, indexKeys: ['g/4', 'x/same'] },
          ],
        }),
      );
      return { one, twice, rows: rows(storage), keys: stored(storage) };
    });
    expect(isKvConditionError(result.one)).toBe(true);
    expect((result.one as { keys: string[] }).keys).toEqual(['u/a']);
    expect((result.twice as { keys: string[] }).keys).toEqual(['x/same']);
    expect(result.rows).toEqual([
      ['g/1', 'r/1'],
      ['u/a', 'r/1'],
    ]);
    expect(result.keys).toEqual(['r/1']);
  });

  it('any number of index keys per write: past the bound-parameter limit and past one statement', async () => {
    // 150 keys on one record (more than 100 parameters), then 300 records of six long keys
    // (about 600,000 characters of JSON: two statements), the last of which clashes.
    const long = (i: number, j: number) =>
      `x/${String(j)}/${'k'.repeat(300)}/${String(i).padStart(5, '0')}`;
    const result = await inFreshObject(async (kv, storage) => {
      const many = Array.from({ length: 150 }, (_, i) => `m/${String(i).padStart(3, '0')}`);
      await kvCommit(kv, { puts: [{ key: 'r/many', value: 1, indexKeys: many }] });
      const records = Array.from({ length: 300 }, (_, i) => ({
        key: `r/${i}`,
        value: i,
        indexKeys: Array.from({ length: 6 }, (_, j) => long(i, j)),
      }));
      const clash = await failure(() =>
        kvCommit(kv, {
          puts: [...records, { key: 'r/late', value: 0, indexKeys: ['m/149'] }],
        }),
      );
      const afterClash = rows(storage).length;
      await kvCommit(kv, { puts: records });
      return {
        clash,
        afterClash,
        rows: rows(storage).length,
        first: await byIndex(kv, { prefix: 'm/', limit: 2 }),
        last: await byIndex(kv, { prefix: 'x/5/', reverse: true, limit: 1 }),
      };
    });
    expect((result.clash as { keys: string[] }).keys).toEqual(['m/149']);
    expect(result.afterClash).toBe(150);
    expect(result.rows).toBe(150 + 300 * 6);
    expect(result.first).toEqual([
      ['m/000', 'r/many'],
      ['m/001', 'r/many'],
    ]);
    expect(result.last).toEqual([[long(299, 5), 'r/299']]);
  });

  it('a deleted record (outside the contract) is passed over by index scans, not an error', async () => {
    const result = await inFreshObject(async (kv) => {
      await kvCommit(kv, {
        puts: [
          { key: 'r/1', value: 1, indexKeys: ['g/1'] },
          { key: 'r/2', value: 2, indexKeys: ['g/2'] },
        ],
      });
      await kvCommit(kv, { deletes: ['r/1'] });
      return byIndex(kv, { prefix: 'g/' });
    });
    expect(result).toEqual([['g/2', 'r/2']]);
  });

  it('after deleteAll() the adapter (and a new one) start over with empty tables', async () => {
    const result = await inFreshObject(async (kv, storage) => {
      await kvCommit(kv, { puts: [{ key: 'r/1', value: 1, indexKeys: ['g/1'] }] });
      await storage.deleteAll();
      const emptied = await byIndex(kv);
      await kvCommit(kv, { puts: [{ key: 'r/1', value: 2, indexKeys: ['g/1'] }] });
      const again = createDurableObjectKv(storage);
      await kvCommit(again, { puts: [{ key: 'r/2', value: 2, indexKeys: ['g/2'] }] });
      return { emptied, rows: rows(storage), found: await byIndex(kv) };
    });
    expect(result).toEqual({
      emptied: [],
      rows: [
        ['g/1', 'r/1'],
        ['g/2', 'r/2'],
      ],
      found: [
        ['g/1', 'r/1'],
        ['g/2', 'r/2'],
      ],
    });
  });
});

describe('platform limits', () => {
  it('an oversize value is refused with InvalidArgumentError naming the key, nothing written', async () => {
    const result = await inFreshObject(async (kv, storage) => {
      const error = await failure(() =>
        kvCommit(kv, {
          puts: [
            { key: 'small', value: 'fits' },
            { key: 'big', value: { payload: 'x'.repeat(DURABLE_OBJECT_MAX_ENTRY_BYTES) } },
          ],
        }),
      );
      return { error, keys: stored(storage) };
    });
    expect(isInvalidArgumentError(result.error)).toBe(true);
    expect((result.error as InvalidArgumentError).field).toBe("key 'big'");
    expect(result.keys).toEqual([]);
  });

  it('an oversize key is refused the same way', async () => {
    const result = await inFreshObject(async (kv, storage) => {
      const key = `k/${'k'.repeat(DURABLE_OBJECT_MAX_ENTRY_BYTES)}`;
      const error = await failure(() => kvCommit(kv, { puts: [{ key, value: 1 }] }));
      return { error, keys: stored(storage) };
    });
    expect(isInvalidArgumentError(result.error)).toBe(true);
    expect((result.error as InvalidArgumentError).field).toMatch(
      /^key 'k\/k+\.\.\. \(\d+ characters\)'$/,
    );
    expect(result.keys).toEqual([]);
  });

  it('two-byte characters count double: a value near the limit in Latin-1 fits, in CJK it does not', async () => {
    const half = Math.floor(DURABLE_OBJECT_MAX_ENTRY_BYTES / 2) + 1000;
    const result = await inFreshObject(async (kv, storage) => {
      await kvCommit(kv, { puts: [{ key: 'latin', value: 'é'.repeat(half) }] });
      const error = await failure(() =>
        kvCommit(kv, { puts: [{ key: 'wide', value: '字'.repeat(half) }] }),
      );
      return { error, keys: stored(storage) };
    });
    expect(isInvalidArgumentError(result.error)).toBe(true);
    expect(result.keys).toEqual(['latin']);
  });

  it('maxEntryBytes lowers the limit, and must lie within the platform limit', async () => {
    const result = await runInDurableObject(freshHost(), async (_instance, state) => {
      const kv = createDurableObjectKv(state.storage, { maxEntryBytes: 1000 });
      await kvCommit(kv, { puts: [{ key: 'ok', value: 'x'.repeat(500) }] });
      const error = await failure(() =>
        kvCommit(kv, { puts: [{ key: 'no', value: 'x'.repeat(1000) }] }),
      );
      const bad = [0, 1.5, DURABLE_OBJECT_MAX_ENTRY_BYTES + 1].map((maxEntryBytes) => {
        try {
          createDurableObjectKv(state.storage, { maxEntryBytes });
          return undefined;
        } catch (e) {
          return (e as InvalidArgumentError).field;
        }
      });
      return { error, bad, keys: stored(state.storage) };
    });
    expect(isInvalidArgumentError(result.error)).toBe(true);
    expect(result.keys).toEqual(['ok']);
    expect(result.bad).toEqual([
      'options.maxEntryBytes',
      'options.maxEntryBytes',
      'options.maxEntryBytes',
    ]);
  });

  it('storage without the synchronous KV API (not SQLite-backed) is refused', () => {
    const notSqlite = {} as DurableObjectStorage;
    expect(() => createDurableObjectKv(notSqlite)).toThrow(InvalidArgumentError);
  });
});

describe('reads', () => {
  it('scan honours prefix, bounds, reverse and limit (limit counts from the end when reversed)', async () => {
    const result = await inFreshObject(async (kv) => {
      await kvCommit(kv, {
        puts: ['a/1', 'a/2', 'a/3', 'a/4', 'b/1'].map((key) => ({ key, value: key })),
      });
      return {
        prefix: await kvScan(kv, { prefix: 'a/' }),
        reverse: await kvScan(kv, { prefix: 'a/', reverse: true, limit: 2 }),
        bounded: await kvScan(kv, { start: 'a/2', end: 'a/4' }),
        empty: await kvScan(kv, { start: 'b', end: 'a' }),
      };
    });
    expect(result.prefix.map((e) => e.key)).toEqual(['a/1', 'a/2', 'a/3', 'a/4']);
    expect(result.reverse.map((e) => e.key)).toEqual(['a/4', 'a/3']);
    expect(result.bounded.map((e) => e.value)).toEqual(['a/2', 'a/3']);
    expect(result.empty).toEqual([]);
  });

  it('values are copies: changing one read changes neither storage nor the next read', async () => {
    const result = await inFreshObject(async (kv) => {
      await kvCommit(kv, {
        puts: [{ key: 'v', value: { n: 1, at: new Date(5), m: new Map([[1n, 'x']]) } }],
      });
      const [first] = (await kvGet(kv, ['v'])) as [{ n: number }];
      first.n = 99;
      const [second] = await kvGet(kv, ['v']);
      return second;
    });
    expect(result).toEqual({ n: 1, at: new Date(5), m: new Map([[1n, 'x']]) });
  });
});

describe('watch', () => {
  it('tells listeners of every adapter over the same storage which keys a commit changed', async () => {
    const heard = await runInDurableObject(freshHost(), async (_instance, state) => {
      const writer = createDurableObjectKv(state.storage);
      const watcher = createDurableObjectKv(state.storage);
      const seen: string[][] = [];
      const stop = watcher.watch!((keys) => seen.push([...keys]));
      await kvCommit(writer, { puts: [{ key: 'a', value: 1 }], deletes: ['b'] });
      await failure(() =>
        kvCommit(writer, { checks: [{ key: 'a', absent: true }], puts: [{ key: 'c', value: 1 }] }),
      );
      stop();
      await kvCommit(writer, { puts: [{ key: 'd', value: 1 }] });
      return seen;
    });
    // The failed commit and the one after stop() are not reported.
    expect(heard).toEqual([['a', 'b']]);
  });
});

describe('backend failures', () => {
  // A storage whose every call fails the way workerd reports SQLite errors.
  const failingStorage = (message: string) => {
    const fail = () => {
      throw new Error(message);
    };
    return {
      transactionSync: fail,
      kv: { get: fail, list: fail, put: fail, delete: fail },
      sql: { exec: fail },
    } as unknown as DurableObjectStorage;
  };

  it('a full database is a StorageFullError with the platform error as cause', async () => {
    const kv = createDurableObjectKv(failingStorage('database or disk is full: SQLITE_FULL'));
    const error = await failure(() => kvCommit(kv, { puts: [{ key: 'a', value: 1 }] }));
    expect(isStorageFullError(error)).toBe(true);
    expect(((error as Error).cause as Error).message).toMatch(/SQLITE_FULL/);
  });

  it('any other failure of get, scan or commit is a StorageError naming the operation', async () => {
    const kv = createDurableObjectKv(failingStorage('disk I/O error: SQLITE_IOERR'));
    const errors = [
      await failure(() => kvGet(kv, ['a'])),
      await failure(() => kvScan(kv, { prefix: 'a' })),
      await failure(() => kvCommit(kv, { deletes: ['a'] })),
    ];
    expect(errors.map((e) => isStorageError(e) && (e as { operation: string }).operation)).toEqual([
      'get',
      'scan',
      'commit',
    ]);
    for (const error of errors) expect((error as Error).cause).toBeInstanceOf(Error);
  });
});
