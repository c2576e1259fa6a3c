import { SuperJSON } from 'superjson';
import type { Codec } from './types.js';

const text = new SuperJSON();

/**
 * The default codec: values are stored as structured-clone data, unchanged (core only
 * validates and, for non-copying backends, freezes a copy). Dates, BigInt, Map, Set,
 * RegExp and binary data round-trip; class instances are refused. Its text form is
 * superjson, so the same values also cross the HTTP wire.
 */
export const structuredCodec: Codec = {
  name: 'structured',
  encode: (value) => value,
  decode: (data) => data,
  stringify: (value) => text.stringify(value),
  parse: (data) => text.parse(data),
};
