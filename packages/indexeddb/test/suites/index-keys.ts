import { createEventStore, isKvConditionError, type KvScan } from '@eventkv/core';
import { failure } from '@eventkv/core/conformance';
import { type Kv, kvScan } from '@eventkv/core/kv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type TestBackend, useDatabases } from '../support/databases.js';
import { readRawDatabase } from '../support/raw.js';

const put = (kv: Kv, key: string, indexKeys?: string[], value: unknown = { key }) =>
  kv.write([], () => ({ puts: [indexKeys ? { key, value, indexKeys } : { key, value }] }));

/**
 * Hides IndexedDB 3.0's `getAllRecords` while `run` runs, as on a browser without it: the
 * adapter then reads keys and values with `getAllKeys`/`getAll`, or a cursor.
 */
const withoutGetAllRecords = async <T>(run: () => Promise<T>): Promise<T> => {
  const hidden = [IDBObjectStore.prototype, IDBIndex.prototype].map((prototype) => {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, 'getAllRecords');
    delete (prototype as { getAllRecords?: unknown }).getAllRecords;
    return () => {
      if (descriptor) Object.defineProperty(prototype, 'getAllRecords', descriptor);
    };
  });
  try {
    return await run();
  } finally {
    for (const restore of hidden) restore();
  }
};

/** What only this adapter does: its record layout, its unique index, its read paths. */
export const indexKeyTests = (backend: TestBackend): void => {
  const database = useDatabases(backend);
  afterEach(() => {
    vi.restoreAllMocks();
  });

  describe(`records and their index keys in IndexedDB (${backend.label})`, () => {
    it('stores each record wrapped, one put per event with its index keys, in one indexed store', async () => {
      const db = database();
      const kv = db.connect();
      const store = createEventStore({ kv });
      await store
        .stream({ type: 'Account', id: '1' })
        .append(
          { type: 'Deposited', data: { amount: 5 }, metadata: { messageId: 'm-1', userId: 'u' } },
          { expectedVersion: 'no-stream' },
        );
      await kv.close();
      const raw = await readRawDatabase(db.indexedDB, db.name);
      expect(Object.keys(raw.stores)).toEqual(['eventkv-records']);
      const records = raw.stores['eventkv-records']!;
      expect(records.map((r) => r.key)).toEqual([
        'default/e/Account/1/0000000000000001',
        'default/h/Account/1',
        'default/m/log',
      ]);
      const [event, head, logHead] = records.map((r) => r.value as { v: unknown; x?: string[] });
      const time = (event!.v as { metadata: { timestamp: number } }).metadata.timestamp
        .toString()
        .padStart(16, '0');
      expect(event!.x).toEqual([
        'default/i/Account/1/m-1',
        'default/g/0000000000000001',
        `default/x/eventType/Deposited/${time}/0000000000000001`,
        `default/x/aggregateType/Account/${time}/0000000000000001`,
        `default/x/user/u/${time}/0000000000000001`,
      ]);
      expect(event!.v).toMatchObject({ type: 'Deposited', version: 1, position: 1 });
      expect(head).toEqual({ v: { version: 1, timestamp: expect.any(Number) } });
      expect(logHead).toEqual({ v: { position: 1 } });
    });

    it('the unique multi-entry index is what IndexedDB holds', async () => {
      const db = database();
      const kv = db.connect();
      await put(kv, 'r/1', ['k/1', 'k/2']);
      await kv.close();
      const request = db.indexedDB.open(db.name);
      const raw = await new Promise<IDBDatabase>((resolve, reject) => {
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const index = raw
        .transaction('eventkv-records')
        .objectStore('eventkv-records')
        .index('indexKeys');
      expect([index.keyPath, index.unique, index.multiEntry]).toEqual(['x', true, true]);
      raw.close();
    });

    it("fails a put whose index key another record holds, naming that put's index keys, applying nothing", async () => {
      const kv = database().connect();
      await put(kv, 'r/1', ['u/m1', 'g/1']);
      const error = await failure(
        kv.write([], () => ({
          puts: [
            { key: 'other', value: 1 },
            { key: 'r/2', value: 2, indexKeys: ['g/2', 'u/m1'] },
            { key: 'r/3', value: 3, indexKeys: ['g/3'] },
          ],
          deletes: ['r/1'],
        })),
      );
      expect(isKvConditionError(error) && error.keys).toEqual(['g/2', 'u/m1']);
      expect((await kv.read(['other', 'r/1', 'r/2', 'r/3'])).values).toEqual([
        undefined,
        { key: 'r/1' },
        undefined,
        undefined,
      ]);
      expect((await kvScan(kv, { by: 'index' })).map((e) => [e.indexKey, e.key])).toEqual([
        ['g/1', 'r/1'],
        ['u/m1', 'r/1'],
      ]);
    });

    it('fails two puts of one write that claim the same index key', async () => {
      const kv = database().connect();
      const error = await failure(
        kv.write([], () => ({
          puts: [
            { key: 'r/1', value: 1, indexKeys: ['k'] },
            { key: 'r/2', value: 2, indexKeys: ['j', 'k'] },
          ],
        })),
      );
      expect(isKvConditionError(error) && error.keys).toEqual(['j', 'k']);
      expect(await kvScan(kv, {})).toEqual([]);
    });

    it('reads back a value shaped like its own wrapper as it was written', async () => {
      const kv = database().connect();
      const tricky = { v: 1, x: ['looks/like/an/index/key'] };
      await put(kv, 'tricky', undefined, tricky);
      expect((await kv.read(['tricky'])).values).toEqual([tricky]);
      expect(await kvScan(kv, { by: 'index' })).toEqual([]);
    });

    it("passes what a plan or a range's `then` throws to the caller as it is", async () => {
      const kv = database().connect();
      const own = new Error('plan refused');
      expect(
        await failure(
          kv.write(['a'], () => {
            throw own;
          }),
        ),
      ).toBe(own);
      expect(
        await failure(
          kv.read(['a'], () => {
            throw own;
          }),
        ),
      ).toBe(own);
    });

    it('reads a range planned alike twice in a row with the point reads, never answering from a stale guess', async () => {
      const kv = database().connect();
      const fill = (count: number, from = 1) =>
        kv.write(['head'], () => ({
          puts: [
            ...Array.from({ length: count }, (_, i) => ({ key: `e/${from + i}`, value: from + i })),
            { key: 'head', value: from + count - 1 },
          ],
        }));
      // What each read did, in order: point read, range read, planning.
      const seen: string[] = [];
      const recording = (name: string, as: string) => {
        const prototype = IDBObjectStore.prototype as unknown as Record<
          string,
          (...args: unknown[]) => unknown
        >;
        const original = prototype[name];
        if (typeof original !== 'function') return;
        vi.spyOn(prototype, name).mockImplementation(function (this: unknown, ...args: unknown[]) {
          seen.push(as);
          return original.apply(this, args);
        });
      };
      recording('get', 'get');
      recording('getAll', 'range');
      recording('getAllRecords', 'range');
      const upToHead = async (reverse = false) => {
        seen.length = 0;
        const read = await kv.read(['head'], ([head]) => {
          seen.push('plan');
          return { start: 'e/', end: `e/${String(head)}~`, ...(reverse ? { reverse } : {}) };
        });
        return read.entries.map((e) => e.value);
      };
      await fill(3);
      expect(await upToHead()).toEqual([1, 2, 3]);
      expect(seen).toEqual(['get', 'plan', 'range']);
      expect(await upToHead()).toEqual([1, 2, 3]);
      expect(seen).toEqual(['get', 'plan', 'range']);
      // Planned alike twice: read ahead, with the head.
      expect(await upToHead()).toEqual([1, 2, 3]);
      expect(seen).toEqual(['get', 'range', 'plan']);
      // Same bounds, a change within them: the range read ahead is read in the head's
      // transaction, so it has the change.
      await kv.write([], () => ({ puts: [{ key: 'e/2', value: 'two' }] }));
      expect(await upToHead()).toEqual([1, 'two', 3]);
      // The head moved: what was read ahead is dropped for the planned range, and the new
      // range is not read ahead until it is planned alike twice.
      await fill(2, 4);
      expect(await upToHead()).toEqual([1, 'two', 3, 4, 5]);
      expect(seen).toEqual(['get', 'range', 'plan', 'range']);
      expect(await upToHead()).toEqual([1, 'two', 3, 4, 5]);
      expect(seen).toEqual(['get', 'plan', 'range']);
      expect(await upToHead(true)).toEqual([5, 4, 3, 'two', 1]);
      expect(await upToHead()).toEqual([1, 'two', 3, 4, 5]);
      expect(seen).toEqual(['get', 'plan', 'range']);
      vi.restoreAllMocks();
    });

    it('answers every scan alike with and without getAllRecords (IndexedDB before 3.0)', async () => {
      const kv = database().connect();
      // Records with several index keys in one range: a multi-entry index returns each
      // once per index key, which the adapter must tell apart without getAllRecords.
      await kv.write([], () => ({
        puts: [
          { key: 'r/1', value: { n: 1 }, indexKeys: ['x/a/1', 'x/a/3', 'y/1'] },
          { key: 'r/2', value: { n: 2 }, indexKeys: ['x/a/2'] },
          { key: 'r/3', value: { n: 3 }, indexKeys: ['x/a/4', 'x/b/1', 'x/b/2'] },
          { key: 'r/4', value: { n: 4 } },
        ],
      }));
      const scans: KvScan[] = [];
      for (const by of ['key', 'index'] as const) {
        for (const bounds of [
          {},
          { prefix: 'x/' },
          { prefix: 'r/' },
          { start: 'x/a/2', end: 'x/b/2' },
          { prefix: 'x/a/', start: 'x/a/3' },
        ]) {
          for (const order of [{}, { reverse: true }]) {
            for (const limit of [{}, { limit: 1 }, { limit: 3 }]) {
              scans.push({ by, ...bounds, ...order, ...limit });
            }
          }
        }
      }
      const answers = await Promise.all(scans.map((scan) => kvScan(kv, scan)));
      // The index answers as it should (checked here on two of them)...
      expect(
        answers[
          scans.findIndex((s) => s.by === 'index' && s.prefix === 'x/' && !s.reverse && !s.limit)
        ]!.map((e) => [e.indexKey, e.key]),
      ).toEqual([
        ['x/a/1', 'r/1'],
        ['x/a/2', 'r/2'],
        ['x/a/3', 'r/1'],
        ['x/a/4', 'r/3'],
        ['x/b/1', 'r/3'],
        ['x/b/2', 'r/3'],
      ]);
      expect(
        answers[
          scans.findIndex(
            (s) => s.by === 'index' && s.start === 'x/a/2' && s.reverse && s.limit === 3,
          )
        ]!.map((e) => [e.indexKey, e.key]),
      ).toEqual([
        ['x/b/1', 'r/3'],
        ['x/a/4', 'r/3'],
        ['x/a/3', 'r/1'],
      ]);
      // ...and the same everywhere without getAllRecords.
      const fallback = await withoutGetAllRecords(() =>
        Promise.all(scans.map((scan) => kvScan(kv, scan))),
      );
      expect(fallback).toEqual(answers);
    });
  });
};
