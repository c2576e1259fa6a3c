import { describe, expect, it } from 'vitest';
import {
  createEventStore,
  createMemoryKv,
  DEFAULT_PAYLOAD_LIMITS,
  MAX_PAYLOAD_DEPTH,
  payloadSize,
} from '../src/index.js';

const nest = (levels: number, inner: unknown = 1): unknown => {
  let value = inner;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
};

describe('payloadSize', () => {
  it('measures what is stored: one byte a Latin-1 character, two above it', () => {
    expect(payloadSize('abc')).toBe(5);
    expect(payloadSize('é')).toBe(3);
    expect(payloadSize('€')).toBe(4);
    expect(payloadSize(1)).toBe(9);
    expect(payloadSize(null)).toBe(1);
    expect(payloadSize({ a: 1 })).toBe(2 + 3 + 9);
    expect(payloadSize([true, false])).toBe(4);
    expect(payloadSize(new Uint8Array(10))).toBe(19);
    expect(payloadSize(new Date(0))).toBe(9);
  });

  it('counts a value at each place it appears', () => {
    const shared = { text: 'x'.repeat(100) };
    expect(payloadSize({ a: shared, b: shared })).toBe(2 + 3 + 3 + 2 * payloadSize(shared));
  });

  it('measures a value shared exponentially often without walking it exponentially often', () => {
    // 60 levels, each holding the level below twice: 2^60 leaves if expanded.
    let level: unknown = { leaf: 1 };
    for (let i = 0; i < 60; i++) level = { l: level, r: level };
    const started = Date.now();
    expect(payloadSize(level)).toBeGreaterThan(2 ** 60);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses outside the contract like a store does', () => {
    expect(() => payloadSize({ f: () => 1 })).toThrow(/value\.f/);
  });
});

describe('the contract in a local store', () => {
  const store = () => createEventStore({ kv: createMemoryKv() });

  it(`nesting: ${MAX_PAYLOAD_DEPTH} levels are stored, one more is refused`, async () => {
    const stream = store().stream({ type: 'Deep', id: '1' });
    await stream.append({ type: 'D', data: nest(MAX_PAYLOAD_DEPTH) });
    expect((await stream.read())[0]?.data).toStrictEqual(nest(MAX_PAYLOAD_DEPTH));
    await expect(
      stream.append({ type: 'D', data: nest(MAX_PAYLOAD_DEPTH + 1) }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a value shared at a shallow place and again too deep is refused at the deep place', async () => {
    const shared = nest(10);
    const data = { shallow: shared, deep: nest(MAX_PAYLOAD_DEPTH - 6, shared) };
    await expect(
      store().stream({ type: 'Deep', id: '2' }).append({ type: 'D', data }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: expect.stringMatching(/^events\[0\]\.data\.deep/),
    });
  });

  it('a shared value whose expansion exceeds the limit is refused at once', async () => {
    let level: unknown = { leaf: 'x'.repeat(1000) };
    for (let i = 0; i < 40; i++) level = { l: level, r: level };
    await expect(
      store().stream({ type: 'Wide', id: '1' }).append({ type: 'W', data: level }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'events[0].data' });
  });

  it('size limits are settings of the store', async () => {
    const small = createEventStore({
      kv: createMemoryKv(),
      maxEventBytes: 100,
      maxAppendBytes: 150,
      maxSnapshotBytes: 50,
    });
    const stream = small.stream({ type: 'Small', id: '1' });
    const text = (n: number) => ({ t: 'x'.repeat(n) });
    // { t: '...' }: 2 + 3 + 2 + n.
    await stream.append({ type: 'S', data: text(93) });
    await expect(stream.append({ type: 'S', data: text(94) })).rejects.toMatchObject({
      field: 'events[0].data',
      reason: expect.stringContaining('maxEventBytes'),
    });
    await expect(
      stream.append([
        { type: 'S', data: text(80) },
        { type: 'S', data: text(80) },
      ]),
    ).rejects.toMatchObject({ field: 'events', reason: expect.stringContaining('maxAppendBytes') });
    await expect(stream.saveSnapshot(1, text(44))).rejects.toMatchObject({
      field: 'state',
      reason: expect.stringContaining('maxSnapshotBytes'),
    });
    expect(() => createEventStore({ kv: createMemoryKv(), maxEventBytes: 0 })).toThrow(
      /options\.maxEventBytes/,
    );
    expect(DEFAULT_PAYLOAD_LIMITS.maxEventBytes).toBeLessThanOrEqual(
      DEFAULT_PAYLOAD_LIMITS.maxAppendBytes,
    );
  });

  it('a stored copy is frozen and independent of the caller’s objects', async () => {
    const stream = store().stream({ type: 'Copy', id: '1' });
    const data = { list: [1, { n: 2 }], at: new Date(3), bytes: new Uint8Array([4]) };
    await stream.append({ type: 'C', data });
    data.list.push(9);
    data.at.setTime(99);
    (data.bytes as Uint8Array)[0] = 0;
    const [event] = await stream.read();
    expect(event?.data).toStrictEqual({
      list: [1, { n: 2 }],
      at: new Date(3),
      bytes: new Uint8Array([4]),
    });
  });
});
