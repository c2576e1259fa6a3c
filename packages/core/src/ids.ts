/** Generates message and session ids. Injected so tests can make them predictable. */
export type IdGenerator = () => string;

type CryptoHost = { crypto?: { randomUUID?: () => string } };

/**
 * `crypto.randomUUID()` where the platform has it (browsers, workerd, Node >= 19),
 * otherwise a time-and-random id that is unique enough for message ids in one stream.
 */
export const defaultIdGenerator: IdGenerator = () => {
  const crypto = (globalThis as CryptoHost).crypto;
  if (crypto?.randomUUID) return crypto.randomUUID();
  const random = () =>
    Math.floor(Math.random() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  return `${Date.now().toString(16)}-${random()}-${random()}-${random()}`;
};
