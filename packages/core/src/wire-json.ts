import { BINARY_VIEWS, isBinary } from './payload.js';

/**
 * The text form of values on the HTTP wire: plain JSON, with the values JSON lacks written
 * as one-property objects whose name starts with `$`:
 *
 * | value | JSON |
 * |---|---|
 * | `undefined` | `{"$undefined":true}` |
 * | NaN, ±Infinity, -0 | `{"$number":"NaN"}`, `"Infinity"`, `"-Infinity"`, `"-0"` |
 * | BigInt | `{"$bigint":"123"}` |
 * | Date | `{"$date":"2026-01-02T03:04:05.006Z"}` |
 * | Map, Set | `{"$map":[[key,value],...]}`, `{"$set":[item,...]}` |
 * | RegExp | `{"$regexp":["source","flags"]}` |
 * | ArrayBuffer, typed array, DataView | `{"$binary":["Uint8Array","<base64>"]}` |
 * | an object with a property whose name starts with `$` | `{"$object":{...}}` (names inside taken as they are) |
 *
 * Everything else is JSON as it is, so a plain JSON document is a valid body. Every value
 * of the payload contract round-trips exactly; a value at several places is written at
 * each (the text grows with the value, never more: no references to expand on the far
 * side). Why not superjson, which the stores' superjson codec uses: it refuses the property
 * names `constructor` and `prototype` anywhere, drops ArrayBuffers, DataViews and invalid
 * Dates, loses NaN and -0 inside typed arrays, and writes a path per special value, which
 * grows with the square of the nesting.
 */

/** Deeper than any payload (`MAX_PAYLOAD_DEPTH`) inside any envelope; bounds the recursion. */
const MAX_DEPTH = 200;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Map(Array.from(ALPHABET, (c, i) => [c, i]));

const toBase64 = (bytes: Uint8Array): string => {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] as number;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += ALPHABET[n >> 18] ?? '';
    out += ALPHABET[(n >> 12) & 63] ?? '';
    out += b === undefined ? '=' : (ALPHABET[(n >> 6) & 63] ?? '');
    out += c === undefined ? '=' : (ALPHABET[n & 63] ?? '');
  }
  return out;
};

const fromBase64 = (text: string): Uint8Array => {
  if (text.length % 4 !== 0)
    throw new SyntaxError('$binary: base64 of a length not a multiple of 4');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = text[i + j] as string;
      const v = c === '=' && i + j >= text.length - padding ? 0 : LOOKUP.get(c);
      if (v === undefined) throw new SyntaxError('$binary: not base64');
      n = (n << 6) | v;
    }
    if (o < out.length) out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
};

/** The bytes of a value, in a buffer of their own (a view's neighbours left out). */
const ownBuffer = (bytes: Uint8Array): ArrayBuffer => {
  const buffer = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  return buffer;
};

const bytesOf = (value: ArrayBuffer | ArrayBufferView): Uint8Array =>
  value instanceof ArrayBuffer
    ? new Uint8Array(value)
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);

/** Sets an own data property, `__proto__` included (assignment would set the prototype). */
const setOwn = (target: Record<string, unknown>, key: string, value: unknown): void => {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
};

const tooDeep = (): never => {
  throw new RangeError(`nests more than ${MAX_DEPTH} levels, or contains a cycle`);
};

const encode = (v: unknown, depth: number): unknown => {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0)
        ? v
        : { $number: Object.is(v, -0) ? '-0' : String(v) };
    case 'undefined':
      return { $undefined: true };
    case 'bigint':
      return { $bigint: v.toString() };
    case 'object':
      break;
    default:
      throw new TypeError(`a ${typeof v} cannot be written as JSON`);
  }
  if (v === null) return null;
  if (depth > MAX_DEPTH) tooDeep();
  if (Array.isArray(v)) return v.map((item) => encode(item, depth + 1));
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    let dollar = false;
    for (const key of Object.keys(v)) {
      if (key.startsWith('$')) dollar = true;
      setOwn(out, key, encode((v as Record<string, unknown>)[key], depth + 1));
    }
    return dollar ? { $object: out } : out;
  }
  if (v instanceof Date) return { $date: v.toISOString() };
  if (v instanceof Map) {
    return { $map: Array.from(v, ([k, item]) => [encode(k, depth + 1), encode(item, depth + 1)]) };
  }
  if (v instanceof Set) return { $set: Array.from(v, (item) => encode(item, depth + 1)) };
  if (v instanceof RegExp) return { $regexp: [v.source, v.flags] };
  if (isBinary(v)) {
    const kind = v instanceof ArrayBuffer ? 'ArrayBuffer' : v.constructor.name;
    return { $binary: [kind, toBase64(bytesOf(v))] };
  }
  throw new TypeError(
    `an instance of ${(v as { constructor?: { name?: string } }).constructor?.name ?? 'a class'} cannot be written as JSON`,
  );
};

const malformed = (reason: string): never => {
  throw new SyntaxError(reason);
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const decodeObject = (o: Record<string, unknown>, depth: number): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(o)) setOwn(out, key, decode(o[key], depth + 1));
  return out;
};

const decodeTag = (tag: string, arg: unknown, depth: number): unknown => {
  switch (tag) {
    case '$undefined':
      return undefined;
    case '$number':
      if (arg === 'NaN') return Number.NaN;
      if (arg === 'Infinity') return Number.POSITIVE_INFINITY;
      if (arg === '-Infinity') return Number.NEGATIVE_INFINITY;
      if (arg === '-0') return -0;
      return malformed('$number must be "NaN", "Infinity", "-Infinity" or "-0"');
    case '$bigint':
      if (typeof arg !== 'string' || !/^-?\d+$/.test(arg))
        return malformed('$bigint must be a string of digits');
      return BigInt(arg);
    case '$date': {
      const time = typeof arg === 'string' ? Date.parse(arg) : Number.NaN;
      if (Number.isNaN(time)) return malformed('$date must be an ISO 8601 date string');
      return new Date(time);
    }
    case '$map': {
      if (!Array.isArray(arg)) return malformed('$map must be an array of [key, value] pairs');
      const out = new Map();
      for (const pair of arg) {
        if (!Array.isArray(pair) || pair.length !== 2)
          return malformed('$map entries are [key, value]');
        out.set(decode(pair[0], depth + 1), decode(pair[1], depth + 1));
      }
      return out;
    }
    case '$set':
      if (!Array.isArray(arg)) return malformed('$set must be an array');
      return new Set(arg.map((item) => decode(item, depth + 1)));
    case '$regexp':
      if (!Array.isArray(arg) || typeof arg[0] !== 'string' || typeof arg[1] !== 'string') {
        return malformed('$regexp must be ["source", "flags"]');
      }
      try {
        return new RegExp(arg[0], arg[1]);
      } catch (error) {
        return malformed(`$regexp: ${(error as Error).message}`);
      }
    case '$binary': {
      if (!Array.isArray(arg) || typeof arg[0] !== 'string' || typeof arg[1] !== 'string') {
        return malformed('$binary must be ["type", "base64"]');
      }
      const buffer = ownBuffer(fromBase64(arg[1]));
      if (arg[0] === 'ArrayBuffer') return buffer;
      const type = Object.hasOwn(BINARY_VIEWS, arg[0]) ? BINARY_VIEWS[arg[0]] : undefined;
      if (!type) return malformed(`$binary: unknown type ${arg[0]}`);
      const width = (type as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      if (buffer.byteLength % width !== 0)
        return malformed(`$binary: ${arg[0]} of a partial element`);
      return new type(buffer);
    }
    case '$object':
      if (!isObject(arg)) return malformed('$object must be an object');
      return decodeObject(arg, depth);
    default:
      return malformed(
        `unknown tag ${tag} (a property name starting with $ must be inside $object)`,
      );
  }
};

const decode = (v: unknown, depth: number): unknown => {
  if (typeof v !== 'object' || v === null) return v;
  if (depth > MAX_DEPTH) tooDeep();
  if (Array.isArray(v)) return v.map((item) => decode(item, depth + 1));
  const keys = Object.keys(v);
  const first = keys[0];
  if (keys.length === 1 && first !== undefined && first.startsWith('$')) {
    return decodeTag(first, (v as Record<string, unknown>)[first], depth);
  }
  for (const key of keys) {
    if (key.startsWith('$'))
      malformed(`property ${key}: names starting with $ must be inside $object`);
  }
  return decodeObject(v as Record<string, unknown>, depth);
};

/**
 * The plain-JSON paths below handle values this deep at most; deeper ones take the tagging
 * path, which refuses what nests beyond `MAX_DEPTH`.
 */
const PLAIN_DEPTH = 100;

/** `$`: a property name starting with it is a tag, or must be inside `$object`. */
const DOLLAR = 36;

/**
 * Whether wire JSON writes `v` as plain `JSON.stringify` does: strings, booleans, null,
 * finite numbers but -0, arrays and plain objects of them with no property name starting
 * with `$` and no `undefined` (everything else is tagged, or refused, by `encode`).
 */
const writesAsJson = (v: unknown, depth: number): boolean => {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object':
      break;
    default:
      return false;
  }
  if (v === null) return true;
  if (depth > PLAIN_DEPTH) return false;
  if (Array.isArray(v)) {
    // An array's own toJSON would be called by JSON.stringify (encode writes the items).
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
    for (let i = 0; i < v.length; i++) if (!writesAsJson(v[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key of Object.keys(v)) {
    if (key.charCodeAt(0) === DOLLAR) return false;
    if (!writesAsJson((v as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
};

/** Whether parsed JSON holds no tag (no property name starting with `$`) to decode. */
const untagged = (v: unknown, depth: number): boolean => {
  if (typeof v !== 'object' || v === null) return true;
  if (depth > PLAIN_DEPTH) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!untagged(v[i], depth + 1)) return false;
    return true;
  }
  for (const key in v) {
    if (key.charCodeAt(0) === DOLLAR) return false;
    if (!untagged((v as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
};

/**
 * A value as wire JSON. Throws `TypeError` for what JSON cannot carry (a function, a
 * symbol, a class instance), `RangeError` for nesting beyond 200 levels or a cycle:
 * callers check payloads against the contract first, so those are programming errors.
 *
 * A value with nothing to tag is its plain JSON: checked without copying it, then
 * `JSON.stringify`, where the tagging path builds a tagged copy first (three times the
 * CPU for a page of events). Both paths live here, and nowhere else, so that every
 * writer of wire JSON (the HTTP client, the Worker, the Durable Object that writes a
 * page's text for it, the push sockets) writes the same text for the same value.
 */
export const toWireJson = (value: unknown): string =>
  writesAsJson(value, 0) ? JSON.stringify(value) : JSON.stringify(encode(value, 0));

/**
 * Wire JSON as a value. Throws `SyntaxError` (or `RangeError` for deep nesting) on bad
 * text. Text with no tag in it is its parsed JSON as it is (checked without copying it);
 * the decoder copies every object of text with tags.
 */
export const fromWireJson = (text: string): unknown => {
  const parsed: unknown = JSON.parse(text);
  return untagged(parsed, 0) ? parsed : decode(parsed, 0);
};
