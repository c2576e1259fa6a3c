import { MAX_PAYLOAD_DEPTH, payloadSize } from '@eventkv/core';

// The rules of core's `payloadSize` for the values nearly every event is made of, below.
const WIDE = /[\u0100-\uffff]/;
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const stringSize = (s: string): number => 2 + (WIDE.test(s) ? 2 * s.length : s.length);

/**
 * `payloadSize` of strings, numbers, booleans, null, undefined, and dense arrays and plain
 * objects of them, counted by the same rules; NaN for anything else (a Date, a Map, binary
 * data, a symbol key, a reserved name, a hole, nesting past `MAX_PAYLOAD_DEPTH`...), which
 * `payloadSize` itself then measures or refuses.
 */
const plainSize = (v: unknown, depth: number): number => {
  switch (typeof v) {
    case 'string':
      return stringSize(v);
    case 'number':
      return 9;
    case 'boolean':
    case 'undefined':
      return 1;
    case 'object':
      break;
    default:
      return Number.NaN;
  }
  if (v === null) return 1;
  if (depth > MAX_PAYLOAD_DEPTH) return Number.NaN;
  const proto = Object.getPrototypeOf(v);
  let size = 2;
  if (proto === Array.prototype) {
    const items = v as unknown[];
    for (let i = 0; i < items.length; i++) {
      if (!(i in items)) return Number.NaN;
      size += plainSize(items[i], depth + 1);
    }
    if (Object.keys(items).length !== items.length) return Number.NaN;
  } else if (proto === Object.prototype || proto === null) {
    const source = v as Record<string, unknown>;
    for (const key in source) {
      if (!Object.hasOwn(source, key)) continue;
      if (RESERVED_KEYS.has(key)) return Number.NaN;
      size += stringSize(key) + plainSize(source[key], depth + 1);
    }
  } else {
    return Number.NaN;
  }
  return Object.getOwnPropertySymbols(v).length > 0 ? Number.NaN : size;
};

/**
 * `payloadSize(value)`: the plain values events are made of are counted in one allocation-free
 * walk, everything else by `payloadSize` itself. A page of `GET .../events` weighs every event
 * it carries, and `payloadSize`'s general walk (it checks the whole payload contract and keeps
 * track of shared and cyclic values) cost the Worker about as much CPU as writing the page.
 */
export const sizeOf = (value: unknown): number => {
  const size = plainSize(value, 1);
  return Number.isNaN(size) ? payloadSize(value) : size;
};
