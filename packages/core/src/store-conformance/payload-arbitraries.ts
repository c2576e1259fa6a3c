import fc, { type Arbitrary } from 'fast-check';
import { DEFAULT_PAYLOAD_LIMITS, MAX_PAYLOAD_DEPTH } from '../payload.js';

/**
 * Generated payloads for the payload-contract group: values inside the contract (which
 * every store must read back deep-equal) and values outside it (which every store must
 * refuse, naming where). Kept apart from the tests so core's own unit tests of the
 * contract and of the wire form use the same generators.
 */

const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/** Any UTF-16 text, lone surrogates and control characters included. */
const anyText: Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
  fc.constantFrom(
    '$date',
    '$object',
    '$',
    'a.b',
    'a\\b',
    '',
    ' ',
    'toString',
    'hasOwnProperty',
    'json',
    'meta',
  ),
);

/** A property name the contract accepts: anything but the three reserved ones. */
export const propertyName: Arbitrary<string> = anyText.filter((key) => !RESERVED.has(key));

const number: Arbitrary<number> = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    Number.NaN,
    -0,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
  ),
);

const leaf: Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  number,
  anyText,
  fc.bigInt(),
  fc.date({ noInvalidDate: true }),
  fc.constantFrom(/a+b?/g, /^x$/imsu, /[\u{1F600}]/u, /(?:)/),
  fc.uint8Array({ maxLength: 16 }),
  fc.float64Array({ maxLength: 4 }),
  fc.int16Array({ maxLength: 4 }),
  fc.bigInt64Array({ maxLength: 3 }),
  fc.uint8Array({ maxLength: 16 }).map((bytes) => bytes.slice().buffer),
  fc.uint8Array({ maxLength: 16 }).map((bytes) => new DataView(bytes.slice().buffer)),
);

/** A value inside the contract: what every store must read back deep-equal. */
export const contractValue: Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(propertyName, tie('value'), { maxKeys: 5, noNullPrototype: true }),
    fc
      .array(fc.tuple(fc.oneof(anyText, number, fc.constant(undefined)), tie('value')), {
        maxLength: 4,
      })
      .map((entries) => new Map(entries)),
    fc
      .array(fc.oneof(anyText, number, fc.bigInt()), { maxLength: 4 })
      .map((items) => new Set(items)),
  ),
})).value;

/** An object payload (event data is usually one), possibly holding one value at two places. */
export const contractPayload: Arbitrary<unknown> = fc.oneof(
  contractValue,
  fc.dictionary(propertyName, contractValue, { maxKeys: 6, noNullPrototype: true }),
  fc
    .tuple(
      fc.dictionary(propertyName, contractValue, { maxKeys: 3, noNullPrototype: true }),
      propertyName,
      propertyName,
    )
    .filter(([, a, b]) => a !== b)
    .map(([shared, a, b]) => ({ [a]: shared, [b]: [shared] })),
);

/** A value outside the contract, inside an otherwise valid payload, and where it sits. */
export interface RefusedCase {
  readonly label: string;
  readonly data: unknown;
  /** The path the refusal must name, after the data field (`events[0].data`). */
  readonly path: string;
}

class Money {
  constructor(readonly cents: bigint) {}
}

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

const sparse = (): unknown[] => {
  const array = [1, 2, 3];
  delete array[1];
  return array;
};

const withExtra = (): unknown[] => Object.assign([1, 2], { extra: true });

const cyclic = (): unknown => {
  const node: { name: string; next?: unknown } = { name: 'loop' };
  node.next = { back: node };
  return node;
};

const reserved = (key: string): Record<string, unknown> => {
  const value: Record<string, unknown> = {};
  Object.defineProperty(value, key, {
    value: 1,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return value;
};

/** The classes of values the contract refuses, each with the path its error names. */
export const refusedCases = (): RefusedCase[] => [
  { label: 'a function', data: { f: () => 1 }, path: '.f' },
  { label: 'a symbol', data: { list: [1, Symbol('s')] }, path: '.list[1]' },
  { label: 'a symbol-keyed property', data: { inner: { [Symbol('k')]: 1 } }, path: '.inner' },
  { label: 'a class instance', data: { price: new Money(5n) }, path: '.price' },
  { label: 'an Error', data: { why: new Error('x') }, path: '.why' },
  { label: 'a boxed number', data: { n: Object(1) as unknown }, path: '.n' },
  { label: 'a WeakMap', data: { w: new WeakMap() }, path: '.w' },
  { label: 'a Promise', data: { p: Promise.resolve(1) }, path: '.p' },
  { label: 'an invalid Date', data: { at: new Date(Number.NaN) }, path: '.at' },
  { label: 'a sparse array', data: { a: sparse() }, path: '.a[1]' },
  { label: 'an array with a property', data: { a: withExtra() }, path: '.a.extra' },
  { label: 'a cycle', data: { head: cyclic() }, path: '.head.next.back' },
  { label: 'the property __proto__', data: { o: reserved('__proto__') }, path: '.o.__proto__' },
  {
    label: 'the property constructor',
    data: { o: reserved('constructor') },
    path: '.o.constructor',
  },
  { label: 'the property prototype', data: { o: reserved('prototype') }, path: '.o.prototype' },
  { label: 'a function as a Map value', data: new Map([['k', () => 1]]), path: '<value 0>' },
  {
    label: `nesting deeper than ${MAX_PAYLOAD_DEPTH} levels`,
    data: nested(MAX_PAYLOAD_DEPTH + 1),
    path: '[0]'.repeat(MAX_PAYLOAD_DEPTH),
  },
  {
    label: 'a payload over the per-event size limit',
    data: { text: 'x'.repeat(DEFAULT_PAYLOAD_LIMITS.maxEventBytes) },
    path: '',
  },
];

/** Generated refused payloads: a refused case placed inside generated valid data. */
export const refusedPayload: Arbitrary<RefusedCase> = fc
  .tuple(
    fc.constantFrom(...refusedCases()),
    fc.array(
      propertyName.filter((k) => /^[A-Za-z_]\w*$/.test(k)),
      { maxLength: 3 },
    ),
  )
  // Wrapping changes where a too-deep or too-large payload is caught: those stay whole.
  .filter(([refused]) => !refused.label.startsWith('nesting') && !refused.label.includes('size'))
  .map(([refused, keys]) => {
    let data = refused.data;
    let path = refused.path;
    for (const key of keys) {
      data = { [key]: data };
      path = `.${key}${path}`;
    }
    return { label: refused.label, data, path };
  });
