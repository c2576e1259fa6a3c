import { runInDurableObject } from 'cloudflare:test';
import { isInvalidArgumentError, isKvConditionError, isStorageError, type Kv } from '@eventkv/core';
import { failure } from '@eventkv/core/conformance';
import { kvCommit, kvGet, kvScan } from '@eventkv/core/kv';
import { describe, expect, it } from 'vitest';
import { createDurableObjectKv } from '../src/index.js';
import { compareKeys, rangePlace } from '../src/kv/small-records.js';
import { freshHost } from './in-object-kv.js';

/** Runs `body` inside a fresh object, with the adapter over its storage. */
const inFreshObject = <T>(body: (kv: Kv, storage: DurableObjectStorage) => Promise<T> | T) =>
  runInDurableObject(freshHost(), (_instance, state) =>
    body(createDurableObjectKv(state.storage), state.storage),
  );

/** The rows of eventkv_small: `[key, JSON text or null]`. */
const rows = (storage: DurableObjectStorage) =>
  storage.sql
    .exec<{ key: string; value: string | null }>(
      'SELECT key, value FROM eventkv_small ORDER BY key',
    )
    .toArray()
    .map(({ key, value }) => [key, value]);

const kvKeys = (storage: DurableObjectStorage) => [...storage.kv.list()].map(([key]) => key);

// A function cannot be serialized: the platform refuses the put it is in, mid-commit.
const unstorable = () => 'not serializable';

const HEAD = 'db/h/Account/a1';
const LEASE = 'db/l/Account/a1';
const LOG_HEAD = 'db/m/log';
const EVENT = 'db/e/Account/a1/0000000000000001';

describe('small records (stream heads, leases, the log head) in eventkv_small', () => {
  it('are rows of JSON beside the other records, read back by point reads and scans', async () => {
    const result = await inFreshObject(async (kv, storage) => {
      await kvCommit(kv, {
        puts: [
          { key: EVENT, value: { type: 'Opened', version: 1 }, indexKeys: ['db/g/1'] },
          { key: HEAD, value: { version: 1, timestamp: 5 } },
          { key: LEASE, value: { sessionId: 's', expiresAt: 9 } },
          { key: LOG_HEAD, value: { position: 1 } },
        ],
      });
      return {
        rows: rows(storage),
        kv: kvKeys(storage),
        got: await kvGet(kv, [LOG_HEAD, EVENT, HEAD, 'db/h/Account/none', LEASE]),
        heads: await kvScan(kv, { prefix: 'db/h/' }),
      };
    });
    expect(result.rows).toEqual([
      [HEAD, '{"version":1,"timestamp":5}'],
      [LEASE, '{"sessionId":"s","expiresAt":9}'],
      [LOG_HEAD, '{"position":1}'],
    ]);
    expect(result.kv).toEqual([EVENT]);
    expect(result.got).toEqual([
      { position: 1 },
      { type: 'Opened', version: 1 },
      { version: 1, timestamp: 5 },
      undefined,
      { sessionId: 's', expiresAt: 9 },
    ]);
    expect(result.heads).toEqual([{ key: HEAD, value: { version: 1, timestamp: 5 } }]);
  });

  it('keys of other owners stay in the KV, even when they look alike', async () => {
    const keys = ['#sync/h/x', '$x/h/y', '/h/z', 'db/hh/x', 'db/h', 'h/x'];
    const result = await inFreshObject(async (kv, storage) => {
      await kvCommit(kv, { puts: keys.map((key) => ({ key, value: { version: 1 } })) });
      return { rows: rows(storage), kv: kvKeys(storage) };
    });
    expect(result.rows).toEqual([]);
    expect(result.kv).toEqual([...keys].sort());
  });

  it('a value JSON would not keep stays in the KV (its row says so) and comes back as it was', async () => {
    const odd = [
      { at: new Date(5) },
      { m: new Map([[1, 'x']]) },
      { version: 1, extra: undefined },
      { zero: -0 },
      [1, undefined, 3],
      { big: 1n },
    ];
    const result = await inFreshObject(async (kv, storage) => {
      const keys = odd.map((_, i) => `db/h/T/${i}`);
      await kvCommit(kv, { puts: keys.map((key, i) => ({ key, value: odd[i] })) });
      const before = { rows: rows(storage), kv: kvKeys(storage), got: await kvGet(kv, keys) };
      const scanned = await kvScan(kv, { prefix: 'db/h/' });
      // Written again with a plain value: the row holds it, the KV entry is stale and unread.
      await kvCommit(kv, { puts: [{ key: keys[0]!, value: { version: 2 } }] });
      return {
        before,
        scanned: scanned.map((e) => e.value),
        after: await kvGet(kv, [keys[0]!]),
        afterScan: (await kvScan(kv, { prefix: 'db/h/', limit: 1 })).map((e) => e.value),
        afterAll: (await kvScan(kv, {})).map((e) => e.value),
      };
    });
    expect(result.before.rows).toEqual(odd.map((_, i) => [`db/h/T/${i}`, null]));
    expect(result.before.kv).toEqual(odd.map((_, i) => `db/h/T/${i}`));
    expect(result.before.got).toEqual(odd);
    expect(Object.is((result.before.got[3] as { zero: number }).zero, -0)).toBe(true);
    expect(result.before.got[2]).toHaveProperty('extra');
    expect(result.scanned).toEqual(odd);
    expect(result.after).toEqual([{ version: 2 }]);
    expect(result.afterScan).toEqual([{ version: 2 }]);
    expect(result.afterAll).toEqual([{ version: 2 }, ...odd.slice(1)]);
  });

  it('a string whose JSON could pass the entry limit goes to the KV, within the limit there', async () => {
    // 300,000 control characters: about 300 kB serialized, 1.8 MB of JSON escapes.
    const value = { note: '\u0001'.repeat(300_000) };
    const result = await inFreshObject(async (kv, storage) => {
      await kvCommit(kv, { puts: [{ key: HEAD, value }] });
      return { rows: rows(storage), got: await kvGet(kv, [HEAD]) };
    });
    expect(result.rows).toEqual([[HEAD, null]]);
    expect(result.got).toEqual([value]);
  });

  it('an oversize small record is refused with InvalidArgumentError, nothing written', async () => {
    const result = await inFreshObject(async (kv, storage) => {
      const error = await failure(() =>
        kvCommit(kv, { puts: [{ key: HEAD, value: { note: 'x'.repeat(2_100_000) } }] }),
      );
      return { error, rows: rows(storage) };
    });
    expect(isInvalidArgumentError(result.error)).toBe(true);
    expect(result.rows).toEqual([]);
  });

  it('checks on them hold: a failed one applies nothing and names the key', async () => {
    const result = await inFreshObject(async (kv, storage) => {
      await kvCommit(kv, { puts: [{ key: HEAD, value: { version: 1, timestamp: 1 } }] });
      const stale = await failure(() =>
        kvCommit(kv, {
          checks: [
            { key: HEAD, equals: { version: 2, timestamp: 1 } },
            { key: LEASE, absent: true },
          ],
          puts: [
            { key: HEAD, value: { version: 3, timestamp: 1 } },
            { key: EVENT, value: 1 },
          ],
        }),
      );
      const taken = await failure(() =>
        kvCommit(kv, {
          checks: [{ key: HEAD, absent: true }],
          puts: [{ key: LOG_HEAD, value: 1 }],
        }),
      );
      await kvCommit(kv, {
        checks: [
          { key: HEAD, equals: { version: 1, timestamp: 1 } },
          { key: LEASE, absent: true },
        ],
        puts: [{ key: HEAD, value: { version: 2, timestamp: 1 } }],
      });
      return { stale, taken, rows: rows(storage), kv: kvKeys(storage) };
    });
    expect(isKvConditionError(result.stale)).toBe(true);
    expect((result.stale as { keys: string[] }).keys).toEqual([HEAD]);
    expect((result.taken as { keys: string[] }).keys).toEqual([HEAD]);
    expect(result.rows).toEqual([[HEAD, '{"version":2,"timestamp":1}']]);
    expect(result.kv).toEqual([]);
  });

  it('an append of one record (its index keys and heads written together): a taken index key fails all of it', async () => {
    const result = await inFreshObject(async (kv, storage) => {
      const append = (version: number, indexKeys: string[]) =>
        kvCommit(kv, {
          puts: [
            { key: `db/e/Account/a1/${version}`, value: { version }, indexKeys },
            { key: HEAD, value: { version, timestamp: 1 } },
            { key: LOG_HEAD, value: { position: version } },
          ],
        });
      await append(1, ['db/i/Account/a1/m1', 'db/g/1']);
      const clash = await failure(() => append(9, ['db/i/Account/a1/m1', 'db/g/9']));
      const afterClash = rows(storage);
      await append(2, ['db/i/Account/a1/m2', 'db/g/2']);
      const index = storage.sql
        .exec<{ ikey: string }>('SELECT ikey FROM eventkv_index ORDER BY ikey')
        .toArray()
        .map((row) => row.ikey);
      return { clash, afterClash, rows: rows(storage), kv: kvKeys(storage), index };
    });
    expect(isKvConditionError(result.clash)).toBe(true);
    expect((result.clash as { keys: string[] }).keys).toEqual(['db/i/Account/a1/m1']);
    expect(result.afterClash).toEqual([
      [HEAD, '{"version":1,"timestamp":1}'],
      [LOG_HEAD, '{"position":1}'],
    ]);
    expect(result.rows).toEqual([
      [HEAD, '{"version":2,"timestamp":1}'],
      [LOG_HEAD, '{"position":2}'],
    ]);
    expect(result.kv).toEqual(['db/e/Account/a1/1', 'db/e/Account/a1/2']);
    expect(result.index).toEqual(['db/g/1', 'db/g/2', 'db/i/Account/a1/m1', 'db/i/Account/a1/m2']);
  });

  it('are written in the transaction of the rest: a refused put rolls their rows back', async () => {
    const result = await inFreshObject(async (kv, storage) => {
      await kvCommit(kv, { puts: [{ key: HEAD, value: { version: 1, timestamp: 1 } }] });
      const error = await failure(() =>
        kvCommit(kv, {
          puts: [
            { key: HEAD, value: { version: 2, timestamp: 1 } },
            { key: LOG_HEAD, value: { position: 1 } },
            { key: EVENT, value: unstorable },
          ],
          deletes: [LEASE],
        }),
      );
      return { error, rows: rows(storage), kv: kvKeys(storage) };
    });
    expect(isStorageError(result.error)).toBe(true);
    expect(result.rows).toEqual([[HEAD, '{"version":1,"timestamp":1}']]);
    expect(result.kv).toEqual([]);
  });

  it('deletes remove the row (and with it a value kept in the KV)', async () => {
    const result = await inFreshObject(async (kv, storage) => {
      await kvCommit(kv, {
        puts: [
          { key: HEAD, value: { version: 1, timestamp: 1 } },
          { key: LEASE, value: { at: new Date(1) } },
        ],
      });
      await kvCommit(kv, { deletes: [HEAD, LEASE] });
      return {
        rows: rows(storage),
        got: await kvGet(kv, [HEAD, LEASE]),
        scanned: await kvScan(kv, {}),
      };
    });
    expect(result).toEqual({ rows: [], got: [undefined, undefined], scanned: [] });
  });

  it('scans across both places merge them in key order, with reverse and limit', async () => {
    const keys = [
      '#sync/state',
      'a',
      'db/e/T/1/0000000000000001',
      'db/h/T/1',
      'db/h/T/2',
      'db/i',
      'db/l/T/1',
      'db/m/log',
      'db/s/T/1/0000000000000001',
      'db2/h/T/1',
      'db2/x',
    ];
    const result = await inFreshObject(async (kv) => {
      // Written out of order, with some kept in the KV (a Date) and one index key.
      await kvCommit(kv, {
        puts: [...keys].reverse().map((key, i) => ({
          key,
          value: i % 3 === 0 ? { at: new Date(i) } : { n: i },
          ...(key.includes('/e/') ? { indexKeys: ['db/g/1'] } : {}),
        })),
      });
      const scan = async (range: Parameters<typeof kvScan>[1]) =>
        (await kvScan(kv, range)).map((e) => e.key);
      return {
        all: await scan({}),
        reversed: await scan({ reverse: true }),
        firstThree: await scan({ limit: 3 }),
        lastFour: await scan({ reverse: true, limit: 4 }),
        db: await scan({ prefix: 'db/' }),
        middle: await scan({ start: 'db/h/T/2', end: 'db/m/log' }),
        middleLimit: await scan({ start: 'db/e', end: 'db/s', limit: 2 }),
        fromH: await scan({ start: 'db/h/T/2', limit: 3 }),
        heads: await scan({ prefix: 'db/h/' }),
        headsReversed: await scan({ prefix: 'db/h/', reverse: true, limit: 1 }),
        byIndex: (await kvScan(kv, { by: 'index' })).map((e) => [e.indexKey, e.key]),
      };
    });
    const sorted = [...keys].sort();
    expect(result.all).toEqual(sorted);
    expect(result.reversed).toEqual([...sorted].reverse());
    expect(result.firstThree).toEqual(sorted.slice(0, 3));
    expect(result.lastFour).toEqual([...sorted].reverse().slice(0, 4));
    expect(result.db).toEqual(sorted.filter((k) => k.startsWith('db/')));
    expect(result.middle).toEqual(['db/h/T/2', 'db/i', 'db/l/T/1']);
    expect(result.middleLimit).toEqual(['db/e/T/1/0000000000000001', 'db/h/T/1']);
    expect(result.fromH).toEqual(['db/h/T/2', 'db/i', 'db/l/T/1']);
    expect(result.heads).toEqual(['db/h/T/1', 'db/h/T/2']);
    expect(result.headsReversed).toEqual(['db/h/T/2']);
    expect(result.byIndex).toEqual([['db/g/1', 'db/e/T/1/0000000000000001']]);
  });

  it('after deleteAll() they are gone, and the adapter (and a new one) write them again', async () => {
    const result = await inFreshObject(async (kv, storage) => {
      await kvCommit(kv, { puts: [{ key: HEAD, value: { version: 1, timestamp: 1 } }] });
      await storage.deleteAll();
      const got = await kvGet(kv, [HEAD]);
      await storage.deleteAll();
      const scanned = await kvScan(kv, { prefix: 'db/h/' });
      await storage.deleteAll();
      const scannedAll = await kvScan(kv, {});
      await storage.deleteAll();
      await kvCommit(kv, {
        checks: [{ key: HEAD, absent: true }],
        puts: [{ key: HEAD, value: { version: 1, timestamp: 2 } }],
      });
      const again = createDurableObjectKv(storage);
      await kvCommit(again, { puts: [{ key: LOG_HEAD, value: { position: 1 } }] });
      return { got, scanned, scannedAll, rows: rows(storage), read: await kvGet(kv, [HEAD]) };
    });
    expect(result).toEqual({
      got: [undefined],
      scanned: [],
      scannedAll: [],
      rows: [
        [HEAD, '{"version":1,"timestamp":2}'],
        [LOG_HEAD, '{"position":1}'],
      ],
      read: [{ version: 1, timestamp: 2 }],
    });
  });
});

describe('rangePlace and compareKeys', () => {
  it('a range is in the KV alone, the table alone, or both, as core says where append state is', () => {
    // Which bounds hold append state is core's rule (`appendStateIn`, tested there).
    expect(rangePlace('db/e/T/1/', 'db/e/T/10')).toBe('kv');
    expect(rangePlace('#sync/h/', '#sync/h0')).toBe('kv');
    expect(rangePlace('db/h/', 'db/h0')).toBe('small');
    expect(rangePlace('db/h/T/2', 'db/i')).toBe('both');
    expect(rangePlace(undefined, 'db/e/')).toBe('both');
  });

  it('compares keys as SQLite orders text (UTF-8 bytes), not as UTF-16 code units', () => {
    expect(compareKeys('a', 'b')).toBeLessThan(0);
    expect(compareKeys('b', 'a')).toBeGreaterThan(0);
    expect(compareKeys('a', 'a')).toBe(0);
    expect(compareKeys('a', 'ab')).toBeLessThan(0);
    // U+FFFF is EF BF BF in UTF-8, U+10000 is F0 90 80 80: in UTF-16 the latter is smaller.
    expect('\u{10000}' < '\uffff').toBe(true);
    expect(compareKeys('\u{10000}', '\uffff')).toBeGreaterThan(0);
  });
});
