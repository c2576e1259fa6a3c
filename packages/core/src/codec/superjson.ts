import { SuperJSON } from 'superjson';
import type { Codec } from './types.js';

// biome-ignore lint/suspicious/noExplicitAny: a class constructor of any signature
export type Class = new (...args: any[]) => unknown;

export interface SuperjsonCodecOptions {
  /**
   * Classes whose instances must round-trip, by a stable identifier (keep it when you
   * rename the class: it is stored with the data).
   */
  readonly classes?: Readonly<Record<string, Class>>;
}

/**
 * A codec that stores payloads as superjson's JSON-shaped data, so registered classes,
 * Dates, BigInt, Map, Set and more round-trip through any backend and the wire. Reads
 * decode every payload, so prefer the default `structuredCodec` when you need no classes.
 *
 * @example
 * const store = createEventStore({ kv, codec: createSuperjsonCodec({ classes: { Money } }) });
 */
export const createSuperjsonCodec = (options: SuperjsonCodecOptions = {}): Codec => {
  const sj = new SuperJSON();
  for (const [identifier, cls] of Object.entries(options.classes ?? {})) {
    sj.registerClass(cls, { identifier });
  }
  return {
    name: 'superjson',
    encode: (value) => sj.serialize(value),
    decode: (data) => {
      const shaped = data as { json?: unknown; meta?: unknown };
      if (typeof data !== 'object' || data === null || !('json' in shaped)) {
        throw new Error('not superjson-encoded data');
      }
      return sj.deserialize(data as Parameters<typeof sj.deserialize>[0]);
    },
    stringify: (value) => sj.stringify(value),
    parse: (text) => sj.parse(text),
  };
};
