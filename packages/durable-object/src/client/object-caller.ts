import { StorageError } from '@eventkv/core';
import type { EventStoreObject } from '../object/event-store-object.js';
import { type RpcResult, unwrapResult } from '../rpc/result.js';

/** The RPC methods of `EventStoreObject`, as the object declares them. */
export type EventStoreObjectRpc = Pick<
  EventStoreObject,
  | 'append'
  | 'read'
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
}

/**
 * Calls one RPC method of the object named `name` and returns its value, or throws the
 * eventkv error it reported (rebuilt as its class). A failure of the call itself (the
 * object was reset, overloaded, unreachable) becomes a `StorageError` with the platform's
 * error as `cause`: the call may or may not have been applied, and retrying an append
 * with the same message ids is safe.
 */
export const callObject = async <T>(
  namespace: EventStoreObjectNamespace,
  name: string,
  operation: string,
  // The object's results are typed for the base event shape; callers name their own `T`.
  invoke: (rpc: EventStoreObjectRpc) => Promise<RpcResult<unknown>>,
): Promise<T> => {
  let result: RpcResult<unknown>;
  try {
    // A fresh stub per call: a stub that saw the object fail may stay broken.
    result = await invoke(eventStoreObjectRpc(namespace.get(namespace.idFromName(name))));
  } catch (error) {
    throw new StorageError(`${operation} (Durable Object call)`, { cause: error });
  }
  return unwrapResult(result, operation) as T;
};
