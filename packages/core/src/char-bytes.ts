// Any character above U+00FF makes V8 keep the whole string two bytes a character.
const WIDE = /[\u0100-\uffff]/;

/**
 * The bytes a string's characters take where V8 keeps them (its heap, structured
 * serialization, and so every backend eventkv stores to): one each while every character
 * fits in Latin-1 (a one-byte string), two each otherwise. Core's payload sizes and the
 * Durable Object adapter's entry-size bound both count strings by this rule.
 */
export const charBytes = (s: string): number => (WIDE.test(s) ? 2 * s.length : s.length);
