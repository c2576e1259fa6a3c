import { charBytes } from '@eventkv/core/kv';

/**
 * An upper bound on the bytes a value takes once the runtime serializes it (V8's
 * structured serialization, which is what SQLite-backed Durable Object storage stores).
 * The platform cannot tell the size before writing, and production refuses an entry
 * over its limit, so the adapter checks this bound before it writes anything.
 *
 * The bound over-counts tags and lengths (a few bytes per item) but never under-counts:
 * strings count one byte per character when every character fits in Latin-1 (V8 stores
 * those one byte wide) and two otherwise.
 */
export const estimateSerializedBytes = (value: unknown): number => {
  const seen = new Set<object>();
  const walk = (v: unknown): number => {
    switch (typeof v) {
      case 'string':
        return stringBytes(v);
      case 'number':
        return 10;
      case 'bigint':
        return 12 + Math.ceil(v.toString(16).length / 2);
      case 'boolean':
      case 'undefined':
        return 1;
      case 'object':
        break;
      default:
        // Functions and symbols do not serialize; the runtime reports them on put.
        return 1;
    }
    if (v === null) return 1;
    // A repeated reference is written once, then as a back-reference.
    if (seen.has(v)) return 6;
    seen.add(v);
    if (v instanceof Date) return 10;
    if (v instanceof RegExp) return 12 + stringBytes(v.source) + v.flags.length;
    if (v instanceof ArrayBuffer) return 12 + v.byteLength;
    if (ArrayBuffer.isView(v)) return 24 + v.byteLength;
    if (v instanceof Map) {
      let size = 12;
      for (const [key, item] of v) size += walk(key) + walk(item);
      return size;
    }
    if (v instanceof Set) {
      let size = 12;
      for (const item of v) size += walk(item);
      return size;
    }
    if (v instanceof Error) return 24 + stringBytes(v.message) + stringBytes(v.stack ?? '');
    // Arrays and plain objects: every own enumerable property, with its key.
    let size = 12;
    for (const key of Object.keys(v)) {
      size += stringBytes(key) + walk((v as Record<string, unknown>)[key]);
    }
    return size;
  };
  return 2 + walk(value);
};

// A tag and a length, then the characters as V8 keeps them (core's rule, shared with its
// payload sizes).
const stringBytes = (s: string): number => 6 + charBytes(s);

const encoder = new TextEncoder();
const NON_ASCII = /[\u0080-\uffff]/;

/** Bytes of a key as SQLite stores it (UTF-8 text). */
export const keyBytes = (key: string): number =>
  // Core's keys are ASCII, so the length is exact without encoding.
  NON_ASCII.test(key) ? encoder.encode(key).byteLength : key.length;
