import { isStorageError, type RetryPolicy, StorageError, withRetries } from '@eventkv/core';
import type { EventStoreObject } from '../object/event-store-object.js';
import { type RpcResult, unwrapResult } from '../rpc/result.js';

/** The RPC methods of `EventStoreObject`, as the object declares them. */
export type EventStoreObjectRpc = Pick<
  EventStoreObject,
  | 'append'
  | 'read'
  | 'readWire'
  | 'version'
  | 'versionOf'
  | 'load'
  | 'saveSnapshot'
  | 'latestSnapshot'
  | 'snapshotAt'
  | 'snapshotVersions'
  | 'deleteSnapshot'
  | 'clearSnapshots'
  | 'open'
  | 'resume'
  | 'renew'
  | 'close'
  | 'query'
  | 'readLog'
  | 'syncPush'
  | 'syncPull'
  | 'syncWait'
  | 'feedDeliver'
  | 'feedWait'
  | 'feedFlush'
  | 'waitStream'
  | 'waitLog'
>;

/** The stub type the caller side talks to. */
export type EventStoreObjectStub = DurableObjectStub<EventStoreObject>;

/**
 * The stub of an `EventStoreObject` with its methods' own types. Workers' stub types map
 * a method whose result holds `unknown` (event payloads, error fields) to `never`; the
 * values that arrive are exactly what the object returns, so this only restores the types.
 * @example
 * const rpc = eventStoreObjectRpc(env.EVENT_STORE.getByName(streamObjectName(ref)));
 * const version = unwrapResult(await rpc.version({ ref }));
 */
export const eventStoreObjectRpc = (
  stub: DurableObjectStub<EventStoreObject> | object,
): EventStoreObjectRpc => stub as EventStoreObjectRpc;

/**
 * The namespace binding of an `EventStoreObject` class or a subclass of it (the part of
 * `DurableObjectNamespace` the caller side uses).
 */
export interface EventStoreObjectNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub<EventStoreObject>;
  /**
   * How calls through this namespace are retried (default `DEFAULT_RETRY_POLICY` of
   * `@eventkv/core`: 5 attempts within 20 s); `false` never retries. A binding has no
   * such property; wrap it to set one.
   */
  readonly retry?: RetryPolicy | false;
}

/**
 * The operations that may run twice with the effect of once: reads, `append` (its events
 * carry their message ids, so a repeat is an exact retry the store deduplicates),
 * `saveSnapshot` (the same state at the same version), `renew`, `close`, `syncPush` (a
 * repeated seq is answered from the client's record, or applied again with its message
 * ids deduplicating), `syncPull` and `syncWait`. Not `open` (a repeat whose first attempt took the
 * lease finds the stream locked), `deleteSnapshot` (it finds nothing to delete) or
 * `clearSnapshots` (it counts nothing).
 */
const REPEATABLE: ReadonlySet<string> = new Set([
  'append',
  'read',
  'load',
  'version',
  'versionOf',
  'saveSnapshot',
  'latestSnapshot',
  'snapshotAt',
  'snapshotVersions',
  'resume',
  'renew',
  'close',
  'query',
  'readLog',
  'syncPush',
  'syncPull',
  'syncWait',
]);

/** Failures of the call itself, with the platform's error as `cause`. */
const callFailures = new WeakSet<object>();

/**
 * Whether the platform says a failed call may be retried: `.retryable` set, and not
 * `.overloaded` (retrying an overloaded object only adds to its load).
 */
const isTransient = (error: unknown): boolean => {
  const flags = error as { retryable?: unknown; overloaded?: unknown } | null;
  return (
    typeof flags === 'object' &&
    flags !== null &&
    flags.retryable === true &&
    flags.overloaded !== true
  );
};

/**
 * Calls one RPC method of the object named `name` and returns its value, or throws the
 * eventkv error it reported (rebuilt as its class). A failure of the call itself (the
 * object was reset, overloaded, unreachable) becomes a `StorageError` with the platform's
 * error as `cause`: the call may or may not have been applied.
 *
 * Repeatable operations (`REPEATABLE`) are retried with `retry` (default the namespace's
 * `retry`, else `DEFAULT_RETRY_POLICY`) after a failure of the call the platform marks
 * `retryable` and not `overloaded`, and after a `STORAGE_FAILURE` the object reports;
 * every other failure is final.
 */
export const callObject = async <T>(
  namespace: EventStoreObjectNamespace,
  name: string,
  operation: string,
  // The object's results are typed for the base event shape; callers name their own `T`.
  invoke: (rpc: EventStoreObjectRpc) => Promise<RpcResult<unknown>>,
  retry: RetryPolicy | false | undefined = namespace.retry,
): Promise<T> => {
  const repeatable = REPEATABLE.has(operation);
  const attempt = async (): Promise<T> => {
    let result: RpcResult<unknown>;
    try {
      // A fresh stub per attempt: a stub that saw the object fail may stay broken.
      result = await invoke(eventStoreObjectRpc(namespace.get(namespace.idFromName(name))));
    } catch (error) {
      const failure = new StorageError(`${operation} (Durable Object call)`, { cause: error });
      callFailures.add(failure);
      throw failure;
    }
    return unwrapResult(result, operation) as T;
  };
  return withRetries(attempt, {
    policy: repeatable ? retry : false,
    classify: (error) =>
      callFailures.has(error as object)
        ? isTransient((error as StorageError).cause)
        : isStorageError(error),
  });
};
