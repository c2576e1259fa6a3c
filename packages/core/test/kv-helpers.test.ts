import { describe, expect, it } from 'vitest';
import { createEventStore, createMemoryKv } from '../src/index.js';
import {
  appendStateIn,
  failedChecks,
  isAppendStateKey,
  kvCommit,
  kvScan,
  kvValuesEqual,
  prefixEnd,
  resolveRange,
} from '../src/kv/index.js';

describe('KV helpers for adapters', () => {
  it('prefixEnd is the first string after every string with the prefix', () => {
    expect(prefixEnd('a/b/')).toBe('a/b0');
    expect('a/b/zzz' < prefixEnd('a/b/')).toBe(true);
    expect('a/b0' < prefixEnd('a/b/')).toBe(false);
  });

  it('resolveRange folds prefix, start and end into one half-open interval', () => {
    expect(resolveRange({ prefix: 'p/' })).toEqual({ start: 'p/', end: 'p0', empty: false });
    expect(resolveRange({ prefix: 'p/', start: 'p/5', end: 'q' })).toEqual({
      start: 'p/5',
      end: 'p0',
      empty: false,
    });
    expect(resolveRange({ prefix: 'p/', start: 'a', end: 'p/3' })).toEqual({
      start: 'p/',
      end: 'p/3',
      empty: false,
    });
    expect(resolveRange({ start: 'b', end: 'a' }).empty).toBe(true);
    expect(resolveRange({})).toEqual({ start: undefined, end: undefined, empty: false });
  });

  it('kvValuesEqual compares stored records deeply', () => {
    expect(
      kvValuesEqual({ a: [1, { b: 'x' }], d: new Date(3) }, { d: new Date(3), a: [1, { b: 'x' }] }),
    ).toBe(true);
    expect(kvValuesEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(kvValuesEqual([1, 2], [1, 2, 3])).toBe(false);
    expect(kvValuesEqual([1], { 0: 1 })).toBe(false);
    expect(kvValuesEqual(new Date(1), new Date(2))).toBe(false);
    expect(kvValuesEqual(Number.NaN, Number.NaN)).toBe(true);
    expect(kvValuesEqual(null, {})).toBe(false);
  });

  it('failedChecks lists the keys whose condition does not hold', () => {
    const checks = [
      { key: 'a', absent: true as const },
      { key: 'b', equals: { v: 1 } },
      { key: 'c', equals: 2 },
      { key: 'd', absent: true as const },
    ];
    expect(failedChecks(checks, [undefined, { v: 1 }, undefined, 0])).toEqual(['c', 'd']);
  });

  it('the memory KV refuses a commit over its key limit, applying nothing', async () => {
    const kv = createMemoryKv({ maxCommitKeys: 2 });
    expect(kv.capabilities.maxCommitKeys).toBe(2);
    await expect(
      kvCommit(kv, {
        puts: [
          { key: 'a', value: 1 },
          { key: 'b', value: 2 },
          { key: 'c', value: 3 },
        ],
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await kvScan(kv, {})).toEqual([]);
  });

  it('isAppendStateKey names the heads, the leases and the log head among all a store writes', async () => {
    const kv = createMemoryKv();
    const store = createEventStore({ kv });
    await store
      .stream({ database: 'db 1', type: 'Account', id: 'a/1' })
      .append([{ type: 'Opened', data: {} }]);
    const session = await store.open({ database: 'db 1', type: 'Account', id: 'b' });
    await session.append([{ type: 'Opened', data: {} }]);
    await session.saveSnapshot(1, { opened: true });
    const keys = (await kvScan(kv, {})).map((entry) => entry.key);
    expect(keys.filter(isAppendStateKey).sort()).toEqual([
      'db%201/h/Account/a%2F1',
      'db%201/h/Account/b',
      'db%201/l/Account/b',
      'db%201/m/log',
    ]);
    // Records of other owners beside core's, and look-alikes, are not append state.
    for (const key of ['#sync/h/x', '$x/h/y', 'db/hh/x', 'db/e/h/x', 'h/x', '/h/x', 'db/h'])
      expect(isAppendStateKey(key)).toBe(false);
  });

  it('appendStateIn says from its bounds whether a range holds no, only or some append state', () => {
    const cases: [string | undefined, string | undefined, 'none' | 'all' | 'some'][] = [
      ['db/e/T/1/', 'db/e/T/10', 'none'],
      ['db/s/T/1/0000000000000003', 'db/s/T/1/0000000000000009', 'none'],
      ['#sync/h/', '#sync/h0', 'none'],
      ['db/hh/', 'db/hh0', 'none'],
      ['db/h/', 'db/h0', 'all'],
      ['db/h/T/2', 'db/h0', 'all'],
      ['db/h/', 'db/h/T/1', 'all'],
      ['db/m/log', 'db/m/log\u0000', 'all'],
      ['db/h/T/2', 'db/i', 'some'],
      ['db/h', 'db/h0', 'some'],
      ['db/h', 'db/i', 'some'],
      ['db/', 'db0', 'some'],
      ['a', 'b', 'some'],
      [undefined, 'db/e/', 'some'],
      ['db/e/', undefined, 'some'],
    ];
    for (const [start, end, expected] of cases) expect(appendStateIn(start, end)).toBe(expected);
  });
});
