import { charBytes } from './char-bytes.js';
import { InvalidArgumentError } from './errors.js';

/**
 * The payload contract: what an event's data and a snapshot's state may hold, checked once,
 * here, before anything is written, by every store (memory, IndexedDB, Durable Objects)
 * and by both remote clients before a request leaves. What it accepts round-trips through
 * every backend (structured clone) and the wire (`wire-json.ts`) unchanged; anything else
 * is `InvalidArgumentError` naming the path of the offending value.
 *
 * | accepted | refused |
 * |---|---|
 * | null, booleans, strings, numbers (NaN, ±Infinity, -0 too), BigInt, undefined | functions, symbols (as values or keys) |
 * | plain objects (prototype `Object.prototype` or null) | class instances (Error, URL, boxed primitives...) |
 * | dense arrays | sparse arrays, arrays with extra properties |
 * | Date (a valid time), Map, Set, RegExp | invalid Dates |
 * | ArrayBuffer, typed arrays, DataView | |
 * | the same value at several places (read back as equal copies) | a value inside itself (a cycle) |
 * | property names that are data | `__proto__`, `constructor`, `prototype` |
 * | up to `MAX_PAYLOAD_DEPTH` (64) nested containers | deeper nesting |
 * | up to the size limits (`payloadSize`) | larger payloads |
 */

/** Containers (objects, arrays, Maps, Sets) a payload may nest, the payload itself included. */
export const MAX_PAYLOAD_DEPTH = 64;

/** Default size limits, in the units of `payloadSize` (about the bytes stored). */
export const DEFAULT_PAYLOAD_LIMITS = Object.freeze({
  /** One event's data. */
  maxEventBytes: 256 * 1024,
  /** The data of all the events of one append. */
  maxAppendBytes: 1024 * 1024,
  /** One snapshot's state. */
  maxSnapshotBytes: 1024 * 1024,
});

/**
 * JavaScript gives these property names a meaning beyond data (`__proto__` sets the
 * prototype on assignment; the others are what prototype-pollution guards in serializers
 * refuse), so a payload holding them would not read back the same on every path.
 */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The views over bytes a payload may hold, by name (the wire writes the name). */
export const BINARY_VIEWS: Readonly<Record<string, new (buffer: ArrayBuffer) => ArrayBufferView>> =
  {
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
    DataView,
  };

const VIEW_PROTOTYPES: ReadonlySet<object> = new Set(
  Object.values(BINARY_VIEWS).map((type) => type.prototype),
);

/** Byte-holding values: stored as their bytes. */
export const isBinary = (value: object): value is ArrayBuffer | ArrayBufferView => {
  const proto = Object.getPrototypeOf(value);
  return proto === ArrayBuffer.prototype || VIEW_PROTOTYPES.has(proto);
};

/** A string's size: one unit a character when all fit in Latin-1 (stored one byte wide), else two. */
const stringSize = (s: string): number => 2 + charBytes(s);

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `path.key`, or `path["key"]` for a key that is not an identifier. */
export const keyPath = (path: string, key: string): string =>
  IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

/** A path given as a string, or as a function that builds it when it is needed. */
export const pathOf = (path: string | (() => string)): string =>
  typeof path === 'string' ? path : path();

const describe = (value: unknown): string => {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return `an instance of ${name || 'an unknown class'} (use the superjson codec and register the class)`;
};

const copyBinary = (value: ArrayBuffer | ArrayBufferView): ArrayBuffer | ArrayBufferView => {
  if (value instanceof ArrayBuffer) return value.slice(0);
  if (value instanceof DataView) {
    return new DataView(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  }
  return (value as unknown as { slice(): ArrayBufferView }).slice();
};

/** Stored as it is: null and every primitive but a symbol. */
const isPrimitive = (v: unknown): boolean =>
  v === null || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol');

const primitiveSize = (v: unknown): number => {
  switch (typeof v) {
    case 'string':
      return stringSize(v);
    case 'number':
      return 9;
    case 'bigint':
      return 9 + Math.ceil((v < 0n ? -v : v).toString(16).length / 2);
    default:
      return 1; // boolean, null, undefined
  }
};

export interface PreparedPayload {
  /** The value to store: a frozen deep copy when one was asked for, else the input. */
  readonly value: unknown;
  /** Contains a Date, Map, Set, RegExp or binary data (types `Object.freeze` cannot protect). */
  readonly mutable: boolean;
  /** Its size (see `payloadSize`). */
  readonly size: number;
}

/** What a walk knows of an object it has finished, for a second reference to it. */
interface Walked {
  readonly out: unknown;
  readonly size: number;
  /** Containers nested inside it, itself included. */
  readonly height: number;
}

/**
 * Checks `value` against the payload contract and measures it; with `copy`, also returns a
 * deep copy with every plain object and array frozen, in the same walk (for backends that
 * share stored values with readers). A value at several places is walked once and counted
 * at each. Throws `InvalidArgumentError` naming `field` and the path; a value over
 * `maxBytes` is refused naming `field` and the limit's `limitName`.
 */
export const preparePayload = (
  value: unknown,
  field: string | (() => string),
  copy: boolean,
  maxBytes: number,
  limitName: string,
): PreparedPayload => {
  if (isPrimitive(value)) {
    const size = primitiveSize(value);
    if (size > maxBytes) tooLarge(field, size, maxBytes, limitName);
    return { value, mutable: false, size };
  }
  let mutable = false;
  let size = 0;
  let deepest = 0;
  // Objects on the path from the root to the one being walked (a cycle returns to one).
  const ancestors: object[] = [];
  // Objects walked completely, allocated at the first one below the root.
  let walked: Map<object, Walked> | undefined;

  const fail = (path: string | (() => string), reason: string): never => {
    throw new InvalidArgumentError(pathOf(path), reason);
  };

  const walk = (v: unknown, path: string | (() => string), depth: number): unknown => {
    if (isPrimitive(v)) {
      size += primitiveSize(v);
      return v;
    }
    if (typeof v !== 'object' || v === null) return fail(path, `${describe(v)} cannot be stored`);
    const known = walked?.get(v);
    if (known !== undefined) {
      const reaches = depth + known.height - 1;
      if (reaches > MAX_PAYLOAD_DEPTH) tooDeep(path);
      size += known.size;
      if (reaches > deepest) deepest = reaches;
      return known.out;
    }
    if (ancestors.includes(v)) {
      fail(
        path,
        'contains itself (a cycle); a payload is a tree: the same value may appear at several places, but not inside itself',
      );
    }
    const before = size;
    const outer = deepest;
    deepest = depth - 1; // containers entered below raise it: what this value nests
    const out = walkObject(v, path, depth);
    const height = deepest - depth + 1;
    if (outer > deepest) deepest = outer;
    if (depth > 1) {
      walked ??= new Map();
      walked.set(v, { out, size: size - before, height });
    }
    return out;
  };

  const tooDeep = (path: string | (() => string)): never =>
    fail(path, `nests more than ${MAX_PAYLOAD_DEPTH} levels of objects, arrays, Maps and Sets`);

  const enter = (v: object, path: string | (() => string), depth: number): void => {
    if (depth > MAX_PAYLOAD_DEPTH) tooDeep(path);
    if (depth > deepest) deepest = depth;
    ancestors.push(v);
  };

  const walkObject = (v: object, path: string | (() => string), depth: number): unknown => {
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      enter(v, path, depth);
      if (Object.getOwnPropertySymbols(v).length > 0) {
        fail(path, 'has a symbol-keyed property (symbol keys cannot be stored)');
      }
      const out: Record<string, unknown> | undefined = copy ? {} : undefined;
      const source = v as Record<string, unknown>;
      size += 2;
      for (const key in source) {
        if (!Object.hasOwn(source, key)) continue;
        if (RESERVED_KEYS.has(key)) {
          fail(
            () => keyPath(pathOf(path), key),
            'is a reserved property name (__proto__, constructor and prototype cannot be stored)',
          );
        }
        const item = source[key];
        size += stringSize(key);
        const stored = walk(item, () => keyPath(pathOf(path), key), depth + 1);
        if (out) out[key] = stored;
      }
      ancestors.pop();
      return out ? Object.freeze(out) : v;
    }
    if (proto === Array.prototype) {
      enter(v, path, depth);
      const source = v as unknown[];
      const out: unknown[] | undefined = copy ? new Array(source.length) : undefined;
      size += 2;
      for (let i = 0; i < source.length; i++) {
        const item = source[i];
        if (item === undefined && !(i in source)) {
          fail(() => `${pathOf(path)}[${i}]`, 'is a hole in a sparse array (arrays must be dense)');
        }
        const stored = walk(item, () => `${pathOf(path)}[${i}]`, depth + 1);
        if (out) out[i] = stored;
      }
      if (Object.keys(source).length !== source.length) {
        const extra = Object.keys(source).find((k) => !/^(0|[1-9]\d*)$/.test(k)) ?? '';
        fail(
          () => keyPath(pathOf(path), extra),
          'is a property of an array (arrays hold only their items)',
        );
      }
      if (Object.getOwnPropertySymbols(source).length > 0) {
        fail(path, 'has a symbol-keyed property (symbol keys cannot be stored)');
      }
      ancestors.pop();
      return out ? Object.freeze(out) : v;
    }
    if (proto === Map.prototype) {
      enter(v, path, depth);
      mutable = true;
      const out = copy ? new Map() : undefined;
      size += 2;
      let i = 0;
      for (const [k, item] of v as Map<unknown, unknown>) {
        const at = i++;
        const ck = walk(k, () => `${pathOf(path)}<key ${at}>`, depth + 1);
        const ci = walk(item, () => `${pathOf(path)}<value ${at}>`, depth + 1);
        out?.set(ck, ci);
      }
      ancestors.pop();
      return out ?? v;
    }
    if (proto === Set.prototype) {
      enter(v, path, depth);
      mutable = true;
      const out = copy ? new Set() : undefined;
      size += 2;
      let i = 0;
      for (const item of v as Set<unknown>) {
        const at = i++;
        out?.add(walk(item, () => `${pathOf(path)}<item ${at}>`, depth + 1));
      }
      ancestors.pop();
      return out ?? v;
    }
    if (proto === Date.prototype) {
      const time = (v as Date).getTime();
      if (Number.isNaN(time)) fail(path, 'is an invalid Date (its time is NaN)');
      mutable = true;
      size += 9;
      return copy ? new Date(time) : v;
    }
    if (proto === RegExp.prototype) {
      const { source, flags } = v as RegExp;
      mutable = true;
      size += stringSize(source) + flags.length;
      return copy ? new RegExp(source, flags) : v;
    }
    if (isBinary(v)) {
      mutable = true;
      size += 9 + (v as ArrayBuffer | ArrayBufferView).byteLength;
      return copy ? copyBinary(v as ArrayBuffer | ArrayBufferView) : v;
    }
    return fail(path, `${describe(v)} cannot be stored`);
  };

  const out = walk(value, field, 1);
  if (size > maxBytes) tooLarge(field, size, maxBytes, limitName);
  return { value: out, mutable, size };
};

const tooLarge = (
  field: string | (() => string),
  size: number,
  maxBytes: number,
  limitName: string,
): never => {
  throw new InvalidArgumentError(
    pathOf(field),
    `is ${size} bytes, more than the limit of ${maxBytes} (${limitName}); store large data elsewhere and keep a reference in the event`,
  );
};

/**
 * A payload's size, about the bytes it takes stored: a string one byte a character (two
 * when a character is above U+00FF) plus 2; a number, Date or binary header 9; booleans,
 * null and undefined 1; a property its key plus its value; a container 2 plus its items.
 * A value at several places counts at each. The limits are checked on this measure, on the
 * value as stored, wherever the append came from. Throws like `preparePayload` for a value
 * outside the contract.
 */
export const payloadSize = (value: unknown): number => {
  plainVisits = 0;
  const size = plainSize(value, 1);
  return Number.isNaN(size)
    ? preparePayload(value, 'value', false, Number.POSITIVE_INFINITY, '').size
    : size;
};

/**
 * Containers the plain walk enters before it leaves the value to `preparePayload`: a value
 * shared at many places is walked at each by the plain walk (`preparePayload` walks it once),
 * so the count bounds its work on a value that expands exponentially.
 */
const PLAIN_VISITS = 100_000;
let plainVisits = 0;

/**
 * `payloadSize` of primitives, and dense arrays and plain objects of them, by the same rules
 * in one allocation-free walk; NaN for anything else (a Date, a Map, binary data, a function,
 * a symbol key, a reserved name, a hole, nesting past `MAX_PAYLOAD_DEPTH`, more than
 * `PLAIN_VISITS` containers...), which `preparePayload` then measures or refuses. Events are
 * nearly always made of these values, and the general walk, which checks the whole contract
 * and keeps track of shared and cyclic values, cost a Worker weighing a page of events about
 * as much CPU as writing the page.
 */
const plainSize = (v: unknown, depth: number): number => {
  if (v === null || typeof v !== 'object') return isPrimitive(v) ? primitiveSize(v) : Number.NaN;
  if (depth > MAX_PAYLOAD_DEPTH || ++plainVisits > PLAIN_VISITS) return Number.NaN;
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
 * A fresh, unfrozen deep copy of a value `preparePayload` accepted. Used to hand out
 * shared records that contain types `Object.freeze` cannot protect.
 */
export const copyValue = <T>(value: T): T => {
  const seen = new Map<object, unknown>();
  const walk = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    const known = seen.get(v);
    if (known !== undefined) return known;
    if (Array.isArray(v)) {
      const out: unknown[] = new Array(v.length);
      seen.set(v, out);
      for (let i = 0; i < v.length; i++) out[i] = walk(v[i]);
      return out;
    }
    if (v instanceof Map) {
      const out = new Map();
      seen.set(v, out);
      for (const [k, item] of v) out.set(walk(k), walk(item));
      return out;
    }
    if (v instanceof Set) {
      const out = new Set();
      seen.set(v, out);
      for (const item of v) out.add(walk(item));
      return out;
    }
    if (v instanceof Date) return new Date(v.getTime());
    if (v instanceof RegExp) return new RegExp(v.source, v.flags);
    if (isBinary(v)) return copyBinary(v);
    const out: Record<string, unknown> = {};
    seen.set(v, out);
    for (const key of Object.keys(v)) out[key] = walk((v as Record<string, unknown>)[key]);
    return out;
  };
  return walk(value) as T;
};
