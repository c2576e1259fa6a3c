import { CorruptRecordError, InvalidArgumentError } from './errors.js';
import type { Context } from './options.js';
import { copyValue, pathOf, preparePayload } from './payload.js';
import { type EventRecord, MUTABLE_INSIDE, type SnapshotRecord } from './records.js';
import type { Snapshot } from './types.js';

/**
 * Payloads on the way in and out. On the way in: validated (and, for backends that share
 * stored values, copied and frozen) in one walk, before anything is written. On the way
 * out: returned as stored when nothing needs decoding, which keeps reads copy-free.
 */

export interface EncodedPayload {
  readonly value: unknown;
  readonly mutable: boolean;
  /** Its size as stored (`payloadSize`). */
  readonly size: number;
}

/**
 * Checks a payload against the contract (`payload.ts`) as it will be stored: the value
 * itself with the structured codec, the codec's output otherwise. `maxBytes` is the limit
 * it must fit, named `limitName` in the error.
 */
export const encodePayload = (
  ctx: Context,
  value: unknown,
  field: string | (() => string),
  maxBytes: number,
  limitName: string,
): EncodedPayload => {
  if (ctx.passThrough) return preparePayload(value, field, ctx.isolate, maxBytes, limitName);
  let encoded: unknown;
  try {
    encoded = ctx.codec.encode(value);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new InvalidArgumentError(
      pathOf(field),
      `cannot be encoded by the ${ctx.codec.name} codec: ${why}`,
      { cause: error },
    );
  }
  return preparePayload(encoded, field, ctx.isolate, maxBytes, limitName);
};

/** Freezes a record built by core before a sharing backend keeps it. */
export const sealRecord = <T extends object>(ctx: Context, record: T, mutable: boolean): T => {
  if (!ctx.isolate) return record;
  if (mutable) Object.defineProperty(record, MUTABLE_INSIDE, { value: true });
  return Object.freeze(record);
};

/**
 * A record's key, or how to build it from the version: a read whose adapter answered no
 * keys (`KvScan.keys`) builds one for an error alone.
 */
type KeyOf = string | ((version: number) => string);

const decodeField = (ctx: Context, key: KeyOf, version: number, data: unknown): unknown => {
  try {
    return ctx.codec.decode(data);
  } catch (error) {
    throw new CorruptRecordError(
      typeof key === 'string' ? key : key(version),
      version,
      `payload does not decode with the ${ctx.codec.name} codec`,
      {
        cause: error,
      },
    );
  }
};

const shared = (record: object): boolean =>
  (record as { [MUTABLE_INSIDE]?: true })[MUTABLE_INSIDE] === true;

export const decodeEvent = (ctx: Context, key: KeyOf, record: EventRecord): EventRecord => {
  if (ctx.passThrough) return ctx.isolate && shared(record) ? copyValue(record) : record;
  if (!('data' in record)) return record;
  return { ...record, data: decodeField(ctx, key, record.version, record.data) };
};

export const decodeSnapshot = <S>(
  ctx: Context,
  key: string,
  record: SnapshotRecord,
): Snapshot<S> => {
  if (ctx.passThrough) {
    return (ctx.isolate && shared(record) ? copyValue(record) : record) as Snapshot<S>;
  }
  return { ...record, state: decodeField(ctx, key, record.version, record.state) as S };
};
