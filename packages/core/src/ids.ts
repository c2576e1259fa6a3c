/** Generates message and session ids. Injected so tests can make them predictable. */
export type IdGenerator = () => string;

type CryptoHost = { crypto?: { getRandomValues?: (array: Uint8Array) => Uint8Array } };

const HEX = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** Where each random byte's two hex digits go in `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const IDS_PER_FILL = 256;
const pool = new Uint8Array(16 * IDS_PER_FILL);
let used = pool.length;
const chars: number[] = new Array(36).fill(0x2d); // '-' where no digit goes

/**
 * A random (version 4) UUID from the platform's `crypto.getRandomValues` (browsers,
 * workerd, Node >= 19), or, without it, a time-and-random id that is unique enough for
 * message ids in one stream.
 *
 * Random bytes are drawn 256 ids at a time, and the id is written as character codes
 * and made a string in one step. An id is made for every event appended without one:
 * this is about 4x faster than `crypto.randomUUID()`, whose result is also a rope of a
 * dozen strings that stays in memory with every stored event.
 */
export const defaultIdGenerator: IdGenerator = () => {
  const crypto = (globalThis as CryptoHost).crypto;
  if (crypto?.getRandomValues) {
    if (used === pool.length) {
      crypto.getRandomValues(pool);
      used = 0;
    }
    for (let i = 0; i < 16; i++) {
      let byte = pool[used + i] as number;
      if (i === 6)
        byte = (byte & 0x0f) | 0x40; // version 4
      else if (i === 8) byte = (byte & 0x3f) | 0x80; // RFC 9562 variant
      const at = AT[i] as number;
      chars[at] = HEX[byte >> 4] as number;
      chars[at + 1] = HEX[byte & 15] as number;
    }
    used += 16;
    return String.fromCharCode.apply(null, chars);
  }
  const random = () =>
    Math.floor(Math.random() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  return `${Date.now().toString(16)}-${random()}-${random()}-${random()}`;
};
