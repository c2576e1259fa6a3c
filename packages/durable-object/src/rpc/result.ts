import { type ErrorJSON, errorFromJSON, errorToJSON, StorageError } from '@eventkv/core';

/**
 * What every RPC method of `EventStoreObject` returns. Workers RPC does not keep error
 * classes or their fields, so failures travel as data (`errorToJSON`) and are rebuilt on
 * the caller's side (`errorFromJSON`).
 */
export type RpcResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ErrorJSON };

/** Runs `operation` and turns its outcome, success or any failure, into an `RpcResult`. */
export const settle = async <T>(
  operation: string,
  run: () => Promise<T>,
): Promise<RpcResult<T>> => {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error: errorToJSON(error, operation) };
  }
};

/**
 * The value of an `RpcResult`, or the eventkv error it carries, rebuilt as its class.
 * @example
 * const version = unwrapResult(await stub.version({ ref }));
 */
export const unwrapResult = <T>(result: RpcResult<T>, operation = 'remote call'): T => {
  if (typeof result !== 'object' || result === null) {
    throw new StorageError(operation, { detail: 'the object returned no result' });
  }
  if (result.ok) return result.value;
  throw errorFromJSON(result.error, operation);
};
