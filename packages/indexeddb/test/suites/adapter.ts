import {
  isInvalidArgumentError,
  isKvConditionError,
  isStorageError,
  type KvChangeListener,
} from '@eventkv/core';
import { failure } from '@eventkv/core/conformance';
import { kvCommit, kvGet, kvScan } from '@eventkv/core/kv';
import { describe, expect, it } from 'vitest';
import { createIndexedDbKv } from '../../src/index.js';
import { eventually, type TestBackend, useDatabases } from '../support/databases.js';

export const adapterTests = (backend: TestBackend): void => {
  const database = useDatabases(backend);

  describe(`createIndexedDbKv (${backend.label})`, () => {
    it('rejects bad options with InvalidArgumentError naming the option', async () => {
      const bad: [Record<string, unknown>, string][] = [
        [{}, 'options.name'],
        [{ name: '' }, 'options.name'],
        [{ name: 'x', durability: 'fast' }, 'options.durability'],
        [{ name: 'x', blockedTimeoutMs: -1 }, 'options.blockedTimeoutMs'],
        [{ name: 'x', maxRetries: 1.5 }, 'options.maxRetries'],
        [{ name: 'x', version: 0 }, 'options.version'],
      ];
      for (const [options, field] of bad) {
        // @ts-expect-error: deliberately wrong options
        const error = await failure(() => createIndexedDbKv(options));
        expect(isInvalidArgumentError(error) && error.field).toBe(field);
      }
    });

    it('declares an atomic backend that copies values and keeps index keys', () => {
      const kv = database().connect();
      expect(kv.capabilities).toEqual({ atomic: true, copiesValues: true, indexes: true });
    });

    it('keeps committed data across connections (a reload)', async () => {
      const db = database();
      const first = db.connect();
      await kvCommit(first, { puts: [{ key: 'k', value: { at: new Date(5), n: 1n } }] });
      await first.close();
      const second = db.connect();
      expect(await kvGet(second, ['k', 'missing'])).toEqual([
        { at: new Date(5), n: 1n },
        undefined,
      ]);
    });

    it('commits with relaxed durability too', async () => {
      const kv = database().connect({ durability: 'relaxed' });
      await kvCommit(kv, { puts: [{ key: 'a', value: 1 }] });
      expect(await kvScan(kv, { prefix: 'a' })).toEqual([{ key: 'a', value: 1 }]);
    });

    it('applies nothing of a commit whose check fails, and names the failed keys', async () => {
      const kv = database().connect();
      await kvCommit(kv, { puts: [{ key: 'head', value: { v: 1 } }] });
      const error = await failure(
        kvCommit(kv, {
          checks: [
            { key: 'head', equals: { v: 2 } },
            { key: 'other', absent: true },
          ],
          puts: [{ key: 'e/1', value: 'x' }],
          deletes: ['head'],
        }),
      );
      expect(isKvConditionError(error) && error.keys).toEqual(['head']);
      expect(await kvGet(kv, ['head', 'e/1'])).toEqual([{ v: 1 }, undefined]);
    });

    it('rejects a value that cannot be stored as InvalidArgumentError, writing nothing', async () => {
      const kv = database().connect();
      const error = await failure(
        kvCommit(kv, {
          puts: [
            { key: 'a', value: 1 },
            { key: 'b', value: () => 1 },
          ],
        }),
      );
      expect(isInvalidArgumentError(error)).toBe(true);
      expect(await kvGet(kv, ['a', 'b'])).toEqual([undefined, undefined]);
    });

    it('fails every operation after close() with StorageError', async () => {
      const kv = database().connect();
      await kvCommit(kv, { puts: [{ key: 'a', value: 1 }] });
      await kv.close();
      for (const op of [kvGet(kv, ['a']), kvScan(kv, {}), kvCommit(kv, { deletes: ['a'] })]) {
        expect(isStorageError(await failure(op))).toBe(true);
      }
    });
  });

  describe(`watch (${backend.label})`, () => {
    it("calls this adapter's listeners with the keys of each commit once it is done", async () => {
      const kv = database().connect();
      const seen: (readonly string[])[] = [];
      kv.watch((keys) => {
        seen.push(keys);
      });
      await kvCommit(kv, { puts: [{ key: 'a', value: 1 }], deletes: ['b'] });
      expect(seen).toEqual([['a', 'b']]);
      await failure(kvCommit(kv, { checks: [{ key: 'zzz', equals: 1 }] }));
      expect(seen).toHaveLength(1);
    });

    it('tells the listeners of another connection (another tab) about a commit', async () => {
      const db = database();
      const a = db.connect();
      const b = db.connect();
      const seen: string[] = [];
      b.watch((keys) => seen.push(...keys));
      await kvCommit(a, { puts: [{ key: 'from-a', value: 1 }] });
      await eventually(() => seen.includes('from-a'));
      expect(seen).toEqual(['from-a']);
    });

    it('does not post with broadcast: false', async () => {
      const db = database();
      const silent = db.connect({ broadcast: false });
      const loud = db.connect();
      const seen: string[] = [];
      db.connect().watch((keys) => seen.push(...keys));
      await kvCommit(silent, { puts: [{ key: 'silent', value: 1 }] });
      await kvCommit(loud, { puts: [{ key: 'loud', value: 1 }] });
      await eventually(() => seen.includes('loud'));
      expect(seen).toEqual(['loud']);
    });

    it('stops calling a listener once removed, and survives a listener that throws', async () => {
      const kv = database().connect();
      const removed: string[] = [];
      const kept: string[] = [];
      const stop = kv.watch((keys) => removed.push(...keys));
      const throwing: KvChangeListener = () => {
        throw new Error('listener bug');
      };
      kv.watch(throwing);
      kv.watch((keys) => kept.push(...keys));
      await kvCommit(kv, { puts: [{ key: 'one', value: 1 }] });
      stop();
      await kvCommit(kv, { puts: [{ key: 'two', value: 2 }] });
      expect(removed).toEqual(['one']);
      expect(kept).toEqual(['one', 'two']);
    });

    it('stops hearing other connections after close()', async () => {
      const db = database();
      const a = db.connect();
      const b = db.connect();
      const c = db.connect();
      const closedSeen: string[] = [];
      const openSeen: string[] = [];
      b.watch((keys) => closedSeen.push(...keys));
      c.watch((keys) => openSeen.push(...keys));
      await b.close();
      await kvCommit(a, { puts: [{ key: 'late', value: 1 }] });
      await eventually(() => openSeen.includes('late'));
      expect(closedSeen).toEqual([]);
    });
  });
};
