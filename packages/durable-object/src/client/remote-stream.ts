import {
  type AppendOptions,
  type AppendResult,
  checkName,
  checkSnapshotState,
  type EventInput,
  type EventShape,
  type EventStream,
  followStream,
  type LoadResult,
  prepareRemoteAppend,
  type ReadOptions,
  type RecordedEvent,
  type Snapshot,
  StorageError,
  type StreamId,
  type SubscribeOptions,
  snapshotInChunks,
  type Unsubscribe,
} from '@eventkv/core';
import type { LoadPage, PageLimits, ReadPage, WirePage } from '../object/calls.js';
import type { RpcResult } from '../rpc/result.js';
import {
  callObject,
  type EventStoreObjectNamespace,
  type EventStoreObjectRpc,
} from './object-caller.js';
import { streamTrigger } from './remote-waits.js';

/** Where a remote handle sends its calls. */
export interface RemoteTarget {
  readonly namespace: EventStoreObjectNamespace;
  /** The name of the object that holds the stream. */
  readonly objectName: string;
  readonly ref: StreamId;
  /** Told of every append that wrote events (read-your-writes of database-wide reads). */
  readonly appended?: (ref: StreamId, version: number) => void;
}

/**
 * A stream handle whose every call runs in the stream's Durable Object. Session handles
 * extend it and add their `sessionId` to each call.
 */
export class RemoteStream<E extends EventShape> implements EventStream<E> {
  readonly ref: StreamId;
  protected readonly target: RemoteTarget;

  /** The names of `target.ref` are checked here, as a local store's `stream()` checks them. */
  constructor(target: RemoteTarget) {
    const { database, type, id } = target.ref;
    checkName('ref.database', database);
    checkName('ref.type', type);
    checkName('ref.id', id);
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

  /**
   * Checked here as a local store checks it, and every event gets its message id before
   * the first attempt: a retried call is then an exact retry, which the object answers
   * with the stored result (`deduplicated: true`) instead of appending twice.
   */
  async append(
    events: EventInput<E> | readonly EventInput<E>[],
    options?: AppendOptions,
  ): Promise<AppendResult> {
    this.assertUsable();
    const { events: prepared, expectedVersion } = prepareRemoteAppend<E>(events, options);
    const result = await this.call<AppendResult>('append', (stub, call) =>
      stub.append({ ...call, events: prepared, options: { expectedVersion } }),
    );
    this.target.appended?.(this.ref, result.version);
    return result;
  }

  /** The whole range, read a page (`ReadPage`) per call. */
  async read(options?: ReadOptions): Promise<RecordedEvent<E>[]> {
    const first = await this.call<ReadPage<E>>('read', (stub, call) =>
      // Copied: Workers RPC cannot carry an options object without a prototype.
      stub.read({ ...call, ...(options === undefined ? {} : { options: { ...options } }) }),
    );
    return this.#rest(first);
  }

  /**
   * One page of the range, cut by the object to `limits` with events weighed as core's
   * `pageEventWeight` weighs them: the answer of the Worker's `GET .../events`, read in one
   * call and weighed once (`object/caller-page.ts`). `next` reads the rest.
   */
  async readPage(options: ReadOptions, limits: PageLimits): Promise<ReadPage<E>> {
    return this.call<ReadPage<E>>('read', (stub, call) =>
      // Copied: Workers RPC cannot carry an options object without a prototype.
      stub.read({
        ...call,
        options: { ...options },
        page: { maxEvents: limits.maxEvents, maxBytes: limits.maxBytes },
      }),
    );
  }

  /**
   * `readPage`'s page as the wire JSON text of `{ events, next? }` (`WirePage`), written
   * by the object: the body of the Worker's `GET .../events`, which it sends as it comes
   * (`object/wire-page.ts`). At most 4 MiB of events, what a text page can carry over RPC.
   */
  async readWirePage(options: ReadOptions, limits: PageLimits): Promise<WirePage> {
    return this.call<WirePage>('read', (stub, call) =>
      // Copied: Workers RPC cannot carry an options object without a prototype.
      stub.readWire({
        ...call,
        options: { ...options },
        page: { maxEvents: limits.maxEvents, maxBytes: limits.maxBytes },
      }),
    );
  }

  /**
   * The events of a first page and of every page after it. The object pins the end of the
   * range in the first page's `next`, so the pages make one consistent range.
   */
  async #rest(first: ReadPage<E>): Promise<RecordedEvent<E>[]> {
    const events = [...first.events];
    let page = first;
    while (page.next !== undefined) {
      const options = page.next;
      page = await this.call<ReadPage<E>>('read', (stub, call) => stub.read({ ...call, options }));
      if (page.events.length === 0 && page.next !== undefined) {
        throw new StorageError('read', { detail: 'the object answered a page without events' });
      }
      for (const event of page.events) events.push(event);
    }
    return events;
  }

  async version(): Promise<number> {
    return this.call('version', (stub, call) => stub.version(call));
  }

  async versionOf(messageId: string): Promise<number> {
    this.assertUsable();
    checkName('messageId', messageId);
    return this.call('versionOf', (stub, call) => stub.versionOf({ ...call, messageId }));
  }

  async saveSnapshot<S>(version: number, state: S): Promise<void> {
    this.assertUsable();
    // The checked copy: plain prototypes, which Workers RPC can carry.
    const checked = checkSnapshotState(state);
    return this.call('saveSnapshot', (stub, call) =>
      stub.saveSnapshot({ ...call, version, state: checked }),
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

  /** The latest snapshot and the events after it: a first page, then `read` pages. */
  async load<S = unknown>(): Promise<LoadResult<E, S>> {
    const first = await this.call<LoadPage<E, S>>('load', (stub, call) => stub.load(call));
    const events = await this.#rest(first);
    return { snapshot: first.snapshot, events, version: first.version };
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
   * Long-polls the stream's object (`waitStream`): each wait answers as soon as the stream
   * is past the last version delivered; `pollIntervalMs` (default 1000 ms) is the retry
   * delay of a failed batch and the first backoff after a failed wait. Reads session-less,
   * so the tail outlives a session.
   */
  subscribe(
    listener: (events: RecordedEvent<E>[]) => void,
    options?: SubscribeOptions,
  ): Unsubscribe {
    const { namespace, objectName, ref } = this.target;
    return followStream(
      new RemoteStream<E>(this.target),
      listener,
      options,
      streamTrigger(namespace, objectName, ref),
    );
  }
}
