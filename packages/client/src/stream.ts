import {
  type AppendOptions,
  type AppendResult,
  type EventInput,
  type EventShape,
  type EventStream,
  InvalidArgumentError,
  type LoadResult,
  type ReadOptions,
  type RecordedEvent,
  type Snapshot,
  type StreamId,
  type SubscribeOptions,
  type Unsubscribe,
} from '@eventkv/core';
import { pollStream } from './poll.js';
import type { RequestSpec, Transport } from './transport.js';
import { encodeSegment, segmentName, streamPath } from './wire.js';

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

  async snapshotEvery<S>(
    every: number,
    fold: (state: S | undefined, events: RecordedEvent<E>[]) => S | Promise<S>,
  ): Promise<number[]> {
    if (!Number.isSafeInteger(every) || every < 1) {
      throw new InvalidArgumentError('every', `must be an integer of at least 1 (got ${every})`);
    }
    if (typeof fold !== 'function') throw new InvalidArgumentError('fold', 'must be a function');
    // The same steps as core's, as requests: each save is checked by the server.
    const { snapshot, version: head } = await this.load<S>();
    let state = snapshot?.state;
    let from = (snapshot?.version ?? 0) + 1;
    const saved: number[] = [];
    while (from + every - 1 <= head) {
      const to = from + every - 1;
      const chunk = await this.read({ from, to });
      state = await fold(state, chunk);
      await this.saveSnapshot(to, state);
      saved.push(to);
      from = to + 1;
    }
    return saved;
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
    return pollStream(reader, listener, options);
  }
}

const versionSegment = (version: number): string => {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new InvalidArgumentError('version', `must be an integer of at least 1 (got ${version})`);
  }
  return String(version);
};
