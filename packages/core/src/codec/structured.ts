import { fromWireJson, toWireJson } from '../wire-json.js';
import type { Codec } from './types.js';

/**
 * The default codec: values are stored as structured-clone data, unchanged (core only
 * validates them against the payload contract and, for non-copying backends, freezes a
 * copy). Dates, BigInt, Map, Set, RegExp and binary data round-trip; class instances are
 * refused. Its text form is wire JSON (`wire-json.ts`), so the same values cross HTTP.
 */
export const structuredCodec: Codec = {
  name: 'structured',
  identity: true,
  encode: (value) => value,
  decode: (data) => data,
  stringify: toWireJson,
  parse: fromWireJson,
};
