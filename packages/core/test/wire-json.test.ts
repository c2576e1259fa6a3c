import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromWireJson, toWireJson } from '../src/index.js';
import { contractValue } from '../src/store-conformance/payload-arbitraries.js';

describe('wire JSON', () => {
  it('every value of the payload contract round-trips exactly', () => {
    fc.assert(
      fc.property(contractValue, (value) => {
        expect(fromWireJson(toWireJson(value))).toStrictEqual(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('is plain JSON where the value is, with tags for what JSON lacks', () => {
    expect(toWireJson({ a: 1, b: ['x', null, true] })).toBe('{"a":1,"b":["x",null,true]}');
    expect(JSON.parse(toWireJson({ at: new Date(0), n: 5n, u: undefined, z: -0 }))).toEqual({
      at: { $date: '1970-01-01T00:00:00.000Z' },
      n: { $bigint: '5' },
      u: { $undefined: true },
      z: { $number: '-0' },
    });
    // A property whose name starts with $ is kept apart from the tags.
    expect(JSON.parse(toWireJson({ $date: 'not a date' }))).toEqual({
      $object: { $date: 'not a date' },
    });
    expect(fromWireJson('{"$object":{"$date":"not a date"}}')).toEqual({ $date: 'not a date' });
  });

  it('binary data keeps its type, its bytes and special floats', () => {
    const value = {
      buffer: new Uint8Array([0, 1, 255]).buffer,
      view: new DataView(new Uint8Array([9, 8]).buffer),
      floats: new Float64Array([Number.NaN, -0, Number.POSITIVE_INFINITY]),
      big: new BigInt64Array([-1n, 2n ** 62n]),
      part: new Uint8Array([1, 2, 3, 4]).subarray(1, 3),
    };
    const back = fromWireJson(toWireJson(value)) as typeof value;
    expect(back).toStrictEqual({ ...value, part: new Uint8Array([2, 3]) });
    expect(Object.is(back.floats[1], -0)).toBe(true);
  });

  it('a __proto__ property in a body is data, never the prototype', () => {
    const value = fromWireJson('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect((value as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('refuses malformed text with SyntaxError or RangeError, never anything else', () => {
    const bad = [
      '{"a": ',
      '{"$nope": 1}',
      '{"$date": "yesterday"}',
      '{"$date": 5}',
      '{"$number": "1"}',
      '{"$bigint": "1.5"}',
      '{"$map": [[1]]}',
      '{"$map": {}}',
      '{"$set": 1}',
      '{"$regexp": ["(", ""]}',
      '{"$regexp": "a"}',
      '{"$binary": ["Uint8Array", "@@@@"]}',
      '{"$binary": ["Float64Array", "AAA="]}',
      '{"$binary": ["Buffer", "AAAA"]}',
      '{"$binary": ["Uint8Array", "AAA"]}',
      '{"$object": [1]}',
      '{"$date": "2020-01-01T00:00:00.000Z", "b": 1}',
      `${'['.repeat(300)}${']'.repeat(300)}`,
    ];
    for (const text of bad) {
      let error: unknown;
      try {
        fromWireJson(text);
      } catch (caught) {
        error = caught;
      }
      expect(
        error instanceof SyntaxError || error instanceof RangeError,
        `${text.slice(0, 40)}: ${String(error)}`,
      ).toBe(true);
    }
  });

  it('writing a value JSON cannot carry fails with TypeError; a cycle with RangeError', () => {
    expect(() => toWireJson({ f: () => 1 })).toThrow(TypeError);
    expect(() => toWireJson({ s: Symbol('s') })).toThrow(TypeError);
    expect(() => toWireJson({ e: new Error('x') })).toThrow(TypeError);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => toWireJson(cycle)).toThrow(RangeError);
  });
});
