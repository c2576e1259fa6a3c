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
      await kv.commit({ puts: [{ key: 'keep', value: 1 }] });
      const error = await failure(() =>
        kv.commit({
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
      await kv.commit({ puts: [{ key: 'head', value: { version: 1 } }] });
      const error = await failure(() =>
        kv.commit({
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

describe('platform limits', () => {
  it('an oversize value is refused with InvalidArgumentError naming the key, nothing written', async () => {
    const result = await inFreshObject(async (kv, storage) => {
      const error = await failure(() =>
        kv.commit({
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
      const error = await failure(() => kv.commit({ puts: [{ key, value: 1 }] }));
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
      await kv.commit({ puts: [{ key: 'latin', value: 'é'.repeat(half) }] });
      const error = await failure(() =>
        kv.commit({ puts: [{ key: 'wide', value: '字'.repeat(half) }] }),
      );
      return { error, keys: stored(storage) };
    });
    expect(isInvalidArgumentError(result.error)).toBe(true);
    expect(result.keys).toEqual(['latin']);
  });

  it('maxEntryBytes lowers the limit, and must lie within the platform limit', async () => {
    const result = await runInDurableObject(freshHost(), async (_instance, state) => {
      const kv = createDurableObjectKv(state.storage, { maxEntryBytes: 1000 });
      await kv.commit({ puts: [{ key: 'ok', value: 'x'.repeat(500) }] });
      const error = await failure(() =>
        kv.commit({ puts: [{ key: 'no', value: 'x'.repeat(1000) }] }),
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
      await kv.commit({
        puts: ['a/1', 'a/2', 'a/3', 'a/4', 'b/1'].map((key) => ({ key, value: key })),
      });
      return {
        prefix: await kv.scan({ prefix: 'a/' }),
        reverse: await kv.scan({ prefix: 'a/', reverse: true, limit: 2 }),
        bounded: await kv.scan({ start: 'a/2', end: 'a/4' }),
        empty: await kv.scan({ start: 'b', end: 'a' }),
      };
    });
    expect(result.prefix.map((e) => e.key)).toEqual(['a/1', 'a/2', 'a/3', 'a/4']);
    expect(result.reverse.map((e) => e.key)).toEqual(['a/4', 'a/3']);
    expect(result.bounded.map((e) => e.value)).toEqual(['a/2', 'a/3']);
    expect(result.empty).toEqual([]);
  });

  it('values are copies: changing one read changes neither storage nor the next read', async () => {
    const result = await inFreshObject(async (kv) => {
      await kv.commit({
        puts: [{ key: 'v', value: { n: 1, at: new Date(5), m: new Map([[1n, 'x']]) } }],
      });
      const [first] = (await kv.get(['v'])) as [{ n: number }];
      first.n = 99;
      const [second] = await kv.get(['v']);
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
      await writer.commit({ puts: [{ key: 'a', value: 1 }], deletes: ['b'] });
      await failure(() =>
        writer.commit({ checks: [{ key: 'a', absent: true }], puts: [{ key: 'c', value: 1 }] }),
      );
      stop();
      await writer.commit({ puts: [{ key: 'd', value: 1 }] });
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
    } as unknown as DurableObjectStorage;
  };

  it('a full database is a StorageFullError with the platform error as cause', async () => {
    const kv = createDurableObjectKv(failingStorage('database or disk is full: SQLITE_FULL'));
    const error = await failure(() => kv.commit({ puts: [{ key: 'a', value: 1 }] }));
    expect(isStorageFullError(error)).toBe(true);
    expect(((error as Error).cause as Error).message).toMatch(/SQLITE_FULL/);
  });

  it('any other failure of get, scan or commit is a StorageError naming the operation', async () => {
    const kv = createDurableObjectKv(failingStorage('disk I/O error: SQLITE_IOERR'));
    const errors = [
      await failure(() => kv.get(['a'])),
      await failure(() => kv.scan({ prefix: 'a' })),
      await failure(() => kv.commit({ deletes: ['a'] })),
    ];
    expect(errors.map((e) => isStorageError(e) && (e as { operation: string }).operation)).toEqual([
      'get',
      'scan',
      'commit',
    ]);
    for (const error of errors) expect((error as Error).cause).toBeInstanceOf(Error);
  });
});
