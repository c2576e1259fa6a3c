import { InvalidArgumentError } from './errors.js';

/**
 * The values eventkv can store with the default (structured) codec: what the structured
 * clone algorithm keeps intact in every backend. Class instances are refused rather than
 * silently turned into plain objects; register them with the superjson codec instead.
 */

const isPlainObject = (value: object): boolean => {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

const isBinary = (value: object): value is ArrayBuffer | ArrayBufferView =>
  value instanceof ArrayBuffer || ArrayBuffer.isView(value);

/** Types whose contents `Object.freeze` cannot protect, so shared copies must be re-copied. */
const hasMutableInternals = (value: object): boolean =>
  value instanceof Date ||
  value instanceof Map ||
  value instanceof Set ||
  value instanceof RegExp ||
  isBinary(value);

const copyBinary = (value: ArrayBuffer | ArrayBufferView): ArrayBuffer | ArrayBufferView => {
  if (value instanceof ArrayBuffer) return value.slice(0);
  if (value instanceof DataView) {
    return new DataView(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  }
  return (value as unknown as { slice(): ArrayBufferView }).slice();
};

const describe = (value: unknown): string => {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return `an instance of ${name || 'an unknown class'} (use the superjson codec and register the class)`;
};

/** A path given as a string, or as a function that builds it when it is needed. */
export const pathOf = (path: string | (() => string)): string =>
  typeof path === 'string' ? path : path();

/** Stored as it is: null and every primitive but a symbol. */
const isPrimitive = (v: unknown): boolean =>
  v === null || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol');

export interface Prepared {
  readonly value: unknown;
  /** Contains a Date, Map, Set, RegExp or binary data. */
  readonly mutable: boolean;
}

/**
 * Validates that `value` can be stored and, when `copy` is set, returns a deep copy with
 * every plain object and array frozen, in the same single walk. Shared references and
 * cycles are preserved. Throws `InvalidArgumentError` naming `field` and the path.
 */
export const prepareValue = (
  value: unknown,
  field: string | (() => string),
  copy: boolean,
): Prepared => {
  let mutable = false;
  // Objects already walked and what stands for them, for shared references and cycles.
  // The first one is held in two variables: a payload that is one flat object (the
  // common case) then allocates no Map.
  let firstIn: object | undefined;
  let firstOut: unknown;
  let seen: Map<object, unknown> | undefined;
  const remember = (v: object, out: unknown): void => {
    if (firstIn === undefined) {
      firstIn = v;
      firstOut = out;
    } else {
      seen ??= new Map();
      seen.set(v, out);
    }
  };

  // The root's path may come as a function: it is built only for an error or a child.
  const walk = (v: unknown, lazyPath: string | (() => string)): unknown => {
    if (isPrimitive(v)) return v;
    if (typeof v !== 'object' || v === null) {
      throw new InvalidArgumentError(pathOf(lazyPath), `${describe(v)} cannot be stored`);
    }
    if (v === firstIn) return firstOut;
    const known = seen?.get(v);
    if (known !== undefined) return known;

    if (Array.isArray(v)) {
      const out: unknown[] | undefined = copy ? new Array(v.length) : undefined;
      remember(v, out ?? v);
      for (let i = 0; i < v.length; i++) {
        const source = v[i];
        // The path is only built for what is walked: primitives need none.
        const item = isPrimitive(source) ? source : walk(source, `${pathOf(lazyPath)}[${i}]`);
        if (out) out[i] = item;
      }
      return out ? Object.freeze(out) : v;
    }
    if (isPlainObject(v)) {
      const out: Record<string, unknown> | undefined = copy ? {} : undefined;
      remember(v, out ?? v);
      const source = v as Record<string, unknown>;
      for (const key in source) {
        if (!Object.hasOwn(source, key)) continue;
        const field = source[key];
        const item = isPrimitive(field) ? field : walk(field, `${pathOf(lazyPath)}.${key}`);
        if (out) out[key] = item;
      }
      return out ? Object.freeze(out) : v;
    }
    if (!hasMutableInternals(v)) {
      throw new InvalidArgumentError(pathOf(lazyPath), `${describe(v)} cannot be stored`);
    }
    mutable = true;
    if (v instanceof Map) {
      const out = copy ? new Map() : undefined;
      remember(v, out ?? v);
      for (const [k, item] of v) {
        const ck = walk(k, `${pathOf(lazyPath)}<key>`);
        const ci = walk(item, `${pathOf(lazyPath)}.get(${String(k)})`);
        out?.set(ck, ci);
      }
      return out ?? v;
    }
    if (v instanceof Set) {
      const out = copy ? new Set() : undefined;
      remember(v, out ?? v);
      for (const item of v) {
        const ci = walk(item, `${pathOf(lazyPath)}<item>`);
        out?.add(ci);
      }
      return out ?? v;
    }
    const out = !copy
      ? v
      : v instanceof Date
        ? new Date(v.getTime())
        : v instanceof RegExp
          ? new RegExp(v.source, v.flags)
          : copyBinary(v as ArrayBuffer | ArrayBufferView);
    remember(v, out);
    return out;
  };

  const result = walk(value, field);
  return { value: result, mutable };
};

/**
 * A fresh, unfrozen deep copy of a value that `prepareValue` accepted. Used to hand out
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
