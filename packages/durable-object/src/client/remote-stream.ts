import {
  type AppendOptions,
  type AppendResult,
  type EventInput,
  type EventShape,
  type EventStream,
  followStream,
  type LoadResult,
  type ReadOptions,
  type RecordedEvent,
  type Snapshot,
  type StreamId,
  type SubscribeOptions,
  snapshotInChunks,
  type Unsubscribe,
} from '@eventkv/core';
import type { RpcResult } from '../rpc/result.js';
import {
  callObject,
  type EventStoreObjectNamespace,
  type EventStoreObjectRpc,
} from './object-caller.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Where a remote handle sends its calls. */
export interface RemoteTarget {
  readonly namespace: EventStoreObjectNamespace;
  /** The name of the object that holds the stream. */
  readonly objectName: string;
  readonly ref: StreamId;
}

/**
 * A stream handle whose every call runs in the stream's Durable Object. Session handles
 * extend it and add their `sessionId` to each call.
 */
export class RemoteStream<E extends EventShape> implements EventStream<E> {
  readonly ref: StreamId;
  protected readonly target: RemoteTarget;

  constructor(target: RemoteTarget) {
    this.target = target;
    this.ref = target.ref;
  }

  /** The session the calls belong to (none for a session-less handle). */
  protected get session(): string | undefined {
    return undefined;
  }

  /** Throws when the handle may no longer be used (a closed session). */
  protected assertUsable(): void {}

  protected call<T>(
    operation: string,
    invoke: (
      stub: EventStoreObjectRpc,
      call: { ref: StreamId; sessionId?: string },
    ) => Promise<RpcResult<unknown>>,
  ): Promise<T> {
    this.assertUsable();
    const sessionId = this.session;
    const call = sessionId === undefined ? { ref: this.ref } : { ref: this.ref, sessionId };
    return callObject<T>(this.target.namespace, this.target.objectName, operation, (stub) =>
      invoke(stub, call),
    );
  }

  async append(
    events: EventInput<E> | readonly EventInput<E>[],
    options?: AppendOptions,
  ): Promise<AppendResult> {
    return this.call('append', (stub, call) =>
      stub.append({ ...call, events, ...(options === undefined ? {} : { options }) }),
    );
  }

  async read(options?: ReadOptions): Promise<RecordedEvent<E>[]> {
    return this.call('read', (stub, call) =>
      stub.read({ ...call, ...(options === undefined ? {} : { options }) }),
    );
  }

  async version(): Promise<number> {
    return this.call('version', (stub, call) => stub.version(call));
  }

  async versionOf(messageId: string): Promise<number> {
    return this.call('versionOf', (stub, call) => stub.versionOf({ ...call, messageId }));
  }

  async saveSnapshot<S>(version: number, state: S): Promise<void> {
    return this.call('saveSnapshot', (stub, call) =>
      stub.saveSnapshot({ ...call, version, state }),
    );
  }

  async latestSnapshot<S = unknown>(): Promise<Snapshot<S> | undefined> {
    return this.call('latestSnapshot', (stub, call) => stub.latestSnapshot(call));
  }

  async snapshotAt<S = unknown>(version: number): Promise<Snapshot<S>> {
    return this.call('snapshotAt', (stub, call) => stub.snapshotAt({ ...call, version }));
  }

  async snapshotVersions(): Promise<number[]> {
    return this.call('snapshotVersions', (stub, call) => stub.snapshotVersions(call));
  }

  async load<S = unknown>(): Promise<LoadResult<E, S>> {
    return this.call('load', (stub, call) => stub.load(call));
  }

  /**
   * Runs `fold` here, on the caller's side (a function cannot cross RPC): reads each full
   * chunk after the latest snapshot and saves a snapshot at its end.
   */
  async snapshotEvery<S>(
    every: number,
    fold: (state: S | undefined, events: RecordedEvent<E>[]) => S | Promise<S>,
  ): Promise<number[]> {
    this.assertUsable();
    // The fold runs here, on the caller's side; each save is checked by the object.
    return snapshotInChunks(this, every, fold);
  }

  async deleteSnapshot(version: number): Promise<void> {
    return this.call('deleteSnapshot', (stub, call) => stub.deleteSnapshot({ ...call, version }));
  }

  async clearSnapshots(): Promise<number> {
    return this.call('clearSnapshots', (stub, call) => stub.clearSnapshots(call));
  }

  /**
   * Polls the object (default every 1000 ms; `pollIntervalMs` sets it): no change feed
   * crosses RPC. Reads session-less, so the tail outlives a session.
   */
  subscribe(
    listener: (events: RecordedEvent<E>[]) => void,
    options?: SubscribeOptions,
  ): Unsubscribe {
    return followStream(new RemoteStream<E>(this.target), listener, options, { sleep });
  }
}
