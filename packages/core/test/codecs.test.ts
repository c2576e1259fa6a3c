import { describe, expect, it } from 'vitest';
import {
  createEventStore,
  createMemoryKv,
  createSuperjsonCodec,
  structuredCodec,
} from '../src/index.js';

class Money {
  constructor(
    readonly cents: bigint,
    readonly currency: string,
  ) {}
}

describe('codecs', () => {
  it('structuredCodec stores values unchanged and has a superjson text form', () => {
    const value = { at: new Date(5), n: 10n, m: new Map([[1, 'a']]) };
    expect(structuredCodec.encode(value)).toBe(value);
    expect(structuredCodec.decode(value)).toBe(value);
    expect(structuredCodec.parse(structuredCodec.stringify(value))).toEqual(value);
  });

  it('createSuperjsonCodec round-trips registered classes as data and as text', () => {
    const codec = createSuperjsonCodec({ classes: { Money } });
    const value = { price: new Money(995n, 'EUR'), tags: new Set(['a']) };
    const decoded = codec.decode(codec.encode(value)) as typeof value;
    expect(decoded.price).toBeInstanceOf(Money);
    expect(decoded).toEqual(value);
    const parsed = codec.parse(codec.stringify(value)) as typeof value;
    expect(parsed.price).toBeInstanceOf(Money);
    expect(() => codec.decode('plain text')).toThrow(/superjson/);
  });

  it('a value the codec cannot encode is an invalid argument naming the field', async () => {
    const codec = {
      ...createSuperjsonCodec(),
      encode: () => {
        throw new Error('nope');
      },
    };
    const store = createEventStore({ kv: createMemoryKv(), codec });
    await expect(
      store.stream({ type: 'A', id: '1' }).append({ type: 'T', data: 1 }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'events[0].data',
      message: expect.stringContaining('nope'),
    });
  });

  it('a function survives superjson encoding but is still refused before storage', async () => {
    const store = createEventStore({ kv: createMemoryKv(), codec: createSuperjsonCodec() });
    await expect(
      store.stream({ type: 'A', id: '1' }).append({ type: 'T', data: { f: () => 1 } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
