/**
 * How event payloads and snapshot states become storable values and back.
 *
 * The default `structuredCodec` stores values as they are (every shipped backend keeps
 * structured-clone data), so reads do not decode anything. A codec such as
 * `createSuperjsonCodec()` turns values into plain JSON-shaped data, which lets registered
 * classes round-trip and gives text backends (the HTTP wire) something to send.
 */
export interface Codec {
  readonly name: string;
  /**
   * `true` when `encode` and `decode` return their input unchanged (the structured
   * codec): core then calls neither, and reads decode nothing.
   */
  readonly identity?: boolean;
  /**
   * Turns a value into storable data. Throws (any error) when the value cannot be
   * encoded; core reports that as an invalid-argument error naming the field.
   */
  encode(value: unknown): unknown;
  /** Inverse of `encode`. Throws when the data does not decode (a corrupt record). */
  decode(data: unknown): unknown;
  /** Text form of a value, for backends and wires that carry text. */
  stringify(value: unknown): string;
  /** Inverse of `stringify`. */
  parse(text: string): unknown;
}
