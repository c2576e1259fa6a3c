import {
  type AppendOptions,
  type AppendResult,
  type EventInput,
  type EventShape,
  type EventStream,
  followStream,
  InvalidArgumentError,
  type LoadResult,
  type ReadOptions,
  type RecordedEvent,
  type Snapshot,
  type StreamId,
  type SubscribeOptions,
  snapshotInChunks,
  type Unsubscribe,
} from '@eventkv/core';
import type { RequestSpec, Transport } from './transport.js';
import { encodeSegment, segmentName, streamPath } from './wire.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What the handle of a stream needs: the transport and, in a session, its id. */
export interface StreamTarget {
  readonly transport: Transport;
  readonly ref: StreamId;
  /** Checked before each call (a closed session fails without a round trip). */
  readonly sessionId?: () => string;
}

/** A stream over HTTP: every method is one request (two for `snapshotEvery`'s steps). */
export class HttpStream<E extends EventShape> implements EventStream<E> {
  readonly ref: StreamId;
  readonly #target: StreamTarget;
  readonly #path: string;

  constructor(target: StreamTarget) {
    this.#target = target;
    this.ref = target.ref;
    this.#path = streamPath(target.ref.database, target.ref.type, target.ref.id);
  }

  protected call(
    spec: Omit<RequestSpec, 'path' | 'sessionId'> & { path: string },
  ): Promise<unknown> {
    const sessionId = this.#target.sessionId?.();
    return this.#target.transport.request({
      ...spec,
      path: this.#path + spec.path,
      ...(sessionId === undefined ? {} : { sessionId }),
    });
  }

  async append(
    events: EventInput<E> | readonly EventInput<E>[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    const list = Array.isArray(events) ? events : [events];
    return (await this.call({
      method: 'POST',
      path: '/events',
      body: { events: list, expectedVersion: options.expectedVersion },
    })) as AppendResult;
  }

  async read(options: ReadOptions = {}): Promise<RecordedEvent<E>[]> {
    const { from, to, direction, limit, ...rest } = options;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) {
      throw new InvalidArgumentError(
        `options.${unknown}`,
        'is not a read option (from, to, direction, limit)',
      );
    }
    const result = (await this.call({
      method: 'GET',
      path: '/events',
      query: { from, to, direction, limit },
    })) as { events: RecordedEvent<E>[] };
    return result.events;
  }

  async version(): Promise<number> {
    return ((await this.call({ method: 'GET', path: '/version' })) as { version: number }).version;
  }

  async versionOf(messageId: string): Promise<number> {
    const result = await this.call({
      method: 'GET',
      path: `/messages/${encodeSegment(segmentName('messageId', messageId))}`,
    });
    return (result as { version: number }).version;
  }

  async saveSnapshot<S>(version: number, state: S): Promise<void> {
    await this.call({ method: 'POST', path: '/snapshots', body: { version, state } });
  }

  async latestSnapshot<S = unknown>(): Promise<Snapshot<S> | undefined> {
    const result = await this.call({ method: 'GET', path: '/snapshots/latest' });
    return (result as { snapshot: Snapshot<S> | undefined }).snapshot;
  }

  async snapshotAt<S = unknown>(version: number): Promise<Snapshot<S>> {
    return (await this.call({
      method: 'GET',
      path: `/snapshots/${versionSegment(version)}`,
    })) as Snapshot<S>;
  }

  async snapshotVersions(): Promise<number[]> {
    const result = await this.call({ method: 'GET', path: '/snapshots' });
    return (result as { versions: number[] }).versions;
  }

  async load<S = unknown>(): Promise<LoadResult<E, S>> {
    return (await this.call({
      method: 'GET',
      path: '/events',
      query: { snapshot: 'true' },
    })) as LoadResult<E, S>;
  }

  snapshotEvery<S>(
    every: number,
    fold: (state: S | undefined, events: RecordedEvent<E>[]) => S | Promise<S>,
  ): Promise<number[]> {
    // The fold runs here, on the caller's side; each save is checked by the server.
    return snapshotInChunks(this, every, fold);
  }

  async deleteSnapshot(version: number): Promise<void> {
    await this.call({ method: 'DELETE', path: `/snapshots/${versionSegment(version)}` });
  }

  async clearSnapshots(): Promise<number> {
    const result = await this.call({ method: 'DELETE', path: '/snapshots' });
    return (result as { deleted: number }).deleted;
  }

  subscribe(
    listener: (events: RecordedEvent<E>[]) => void,
    options: SubscribeOptions = {},
  ): Unsubscribe {
    // Reads without the session header, so closing a session does not end its tail.
    const reader = new HttpStream<E>({ transport: this.#target.transport, ref: this.ref });
    // HTTP has no change feed: the tail polls.
    return followStream(reader, listener, options, { sleep });
  }
}

const versionSegment = (version: number): string => {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new InvalidArgumentError('version', `must be an integer of at least 1 (got ${version})`);
  }
  return String(version);
};
