import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isInvalidArgumentError, MAX_PAYLOAD_DEPTH, payloadSize } from '../src/index.js';
import { charBytes } from '../src/kv/index.js';
import { preparePayload } from '../src/payload.js';
import { contractPayload, refusedCases } from '../src/store-conformance/payload-arbitraries.js';

/** The general walk's measure: what `payloadSize` must answer whichever walk it takes. */
const measured = (value: unknown) =>
  preparePayload(value, 'value', false, Number.POSITIVE_INFINITY, '').size;

/** A walk's answer: the size, or the message of what it refused. */
const outcome = (walk: () => number): { size: number } | { refused: string } => {
  try {
    return { size: walk() };
  } catch (error) {
    return { refused: (error as Error).message };
  }
};

/**
 * Values `payloadSize` counts in its plain walk: primitives in arrays and plain objects.
 * fast-check also draws keys such as `__proto__`, which both walks refuse alike.
 */
const plainValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, undefined, true, false, -0, Number.NaN),
    fc.double(),
    fc.bigInt(),
    fc.string({ unit: 'binary' }),
    fc.string({ unit: fc.integer({ min: 0, max: 0x1ff }).map((c) => String.fromCharCode(c)) }),
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(fc.string({ unit: 'binary' }), tie('value'), { maxKeys: 6 }),
  ),
})).value;

describe('payloadSize, whichever walk it takes', () => {
  it('counts plain values as the general walk does', () => {
    fc.assert(
      fc.property(plainValue, (value) => {
        expect(outcome(() => payloadSize(value))).toEqual(outcome(() => measured(value)));
      }),
      { numRuns: 2000 },
    );
  });

  it('counts every value of the contract as the general walk does', () => {
    fc.assert(
      fc.property(contractPayload, (value) => {
        expect(payloadSize(value)).toBe(measured(value));
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses every class of value outside the contract', () => {
    for (const refused of refusedCases()) {
      if (refused.label.includes('size limit')) continue; // payloadSize sets no limit
      let error: unknown;
      try {
        payloadSize(refused.data);
      } catch (caught) {
        error = caught;
      }
      expect(isInvalidArgumentError(error), refused.label).toBe(true);
    }
  });

  it('counts a plain value shared at more places than the plain walk enters', () => {
    // 2^20 places for the innermost object: the plain walk gives up, the general one counts.
    let level: unknown = { leaf: 1 };
    let expected = 2 + (2 + 4) + 9;
    for (let i = 0; i < 20; i++) {
      level = { l: level, r: level };
      expected = 2 + 2 * (2 + 1) + 2 * expected;
    }
    expect(payloadSize(level)).toBe(expected);
  });

  it('refuses plain nesting deeper than MAX_PAYLOAD_DEPTH, and counts it up to there', () => {
    const nest = (levels: number): unknown => (levels === 0 ? 1 : [nest(levels - 1)]);
    expect(payloadSize(nest(MAX_PAYLOAD_DEPTH))).toBe(2 * MAX_PAYLOAD_DEPTH + 9);
    expect(() => payloadSize(nest(MAX_PAYLOAD_DEPTH + 1))).toThrow(/nests more than 64/);
  });
});

describe('charBytes', () => {
  it('counts one byte a character while all fit in Latin-1, two otherwise', () => {
    expect(charBytes('')).toBe(0);
    expect(charBytes('abc')).toBe(3);
    expect(charBytes('é\u00ff')).toBe(2);
    expect(charBytes('€')).toBe(2);
    expect(charBytes('a€b')).toBe(6);
    expect(charBytes('😀')).toBe(4);
  });
});
