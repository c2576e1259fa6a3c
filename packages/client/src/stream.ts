import {
  type AppendOptions,
  type AppendResult,
  checkName,
  checkSnapshotState,
  type EventInput,
  type EventShape,
  type EventStream,
  followStream,
  InvalidArgumentError,
  type LoadResult,
  prepareRemoteAppend,
  type ReadOptions,
  type RecordedEvent,
  type Snapshot,
  type StreamId,
  type SubscribeOptions,
  snapshotInChunks,
  type Unsubscribe,
} from '@eventkv/core';
import { HttpError } from './http-error.js';
import { type LivePush, subscribeLive } from './live-subscribe.js';
import { streamLongPoll } from './long-poll.js';
import type { RequestSpec, Transport } from './transport.js';
import { encodeSegment, segmentName, streamPath } from './wire.js';

/** What the handle of a stream needs: the transport and, in a session, its id. */
export interface StreamTarget {
  readonly transport: Transport;
  readonly ref: StreamId;
  /** Checked before each call (a closed session fails without a round trip). */
  readonly sessionId?: () => string;
  /** The store's push sockets, tried before the long-poll by `subscribe` (absent: none). */
  readonly live?: LivePush;
  /** Told each append's version, for the store's read-your-writes (`own-appends.ts`). */
  readonly appended?: (ref: StreamId, version: number) => void;
}

/**
 * One page of `GET .../events`: the events, and the read options of the rest of the range
 * when one answer could not carry it all.
 */
interface EventsPage<E extends EventShape> {
  readonly events: RecordedEvent<E>[];
  readonly next?: ReadOptions;
}

/**
 * A stream over HTTP: every method is one request (a read, one per page; `snapshotEvery`,
 * one per step), retried by the transport when that is safe.
 */
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

  /**
   * Checked here as a local store checks it, and every event gets its message id before
   * the first attempt: a retry is then an exact retry, which the server answers with the
   * stored result (`deduplicated: true`) instead of appending twice.
   */
  async append(
    events: EventInput<E> | readonly EventInput<E>[],
    options?: AppendOptions,
  ): Promise<AppendResult> {
    this.#target.sessionId?.(); // a closed session fails first, as in a local store
    const prepared = prepareRemoteAppend<E>(events, options);
    const result = (await this.call({
      method: 'POST',
      path: '/events',
      body: { events: prepared.events, expectedVersion: prepared.expectedVersion },
      idempotent: true,
    })) as AppendResult;
    this.#target.appended?.(this.ref, result.version);
    return result;
  }

  async read(options?: ReadOptions): Promise<RecordedEvent<E>[]> {
    this.#target.sessionId?.();
    const { from, to, direction, limit, ...rest } = checkOptions(options);
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) {
      throw new InvalidArgumentError(
        `options.${unknown}`,
        'is not a read option (from, to, direction, limit)',
      );
    }
    checkInteger('options.from', from, 1);
    checkInteger('options.to', to, 1);
    if (from !== undefined && to !== undefined && from > to) {
      throw new InvalidArgumentError(
        'options.from',
        `must not be greater than options.to (${from} > ${to})`,
      );
    }
    checkInteger('options.limit', limit, 1);
    if (direction !== undefined && direction !== 'forward' && direction !== 'backward') {
      throw new InvalidArgumentError('options.direction', "must be 'forward' or 'backward'");
    }
    const first = (await this.call({
      method: 'GET',
      path: '/events',
      query: { from, to, direction, limit },
    })) as EventsPage<E>;
    return this.#rest(first);
  }

  /**
   * The events of a first page and of every page after it: the server pins the end of
   * the range in the first page's `next`, so the pages make one consistent range.
   */
  async #rest(first: EventsPage<E>): Promise<RecordedEvent<E>[]> {
    const events = [...first.events];
    let page = first;
    while (page.next !== undefined) {
      const { from, to, direction, limit } = page.next;
      page = (await this.call({
        method: 'GET',
        path: '/events',
        query: { from, to, direction, limit },
      })) as EventsPage<E>;
      if (page.events.length === 0 && page.next !== undefined) {
        throw new HttpError(
          'BAD_RESPONSE',
          200,
          'GET events: a page without events has a next page',
        );
      }
      for (const event of page.events) events.push(event);
    }
    return events;
  }

  async version(): Promise<number> {
    return ((await this.call({ method: 'GET', path: '/version' })) as { version: number }).version;
  }

  async versionOf(messageId: string): Promise<number> {
    this.#target.sessionId?.();
    const id = segmentName('messageId', checkName('messageId', messageId));
    const result = await this.call({ method: 'GET', path: `/messages/${encodeSegment(id)}` });
    return (result as { version: number }).version;
  }

  async saveSnapshot<S>(version: number, state: S): Promise<void> {
    this.#target.sessionId?.();
    const checked = checkSnapshotState(state);
    // Saving the same state at the same version again overwrites it with itself.
    await this.call({
      method: 'POST',
      path: '/snapshots',
      body: { version, state: checked },
      idempotent: true,
    });
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
    const first = (await this.call({
      method: 'GET',
      path: '/events',
      query: { snapshot: 'true' },
    })) as LoadResult<E, S> & { next?: ReadOptions };
    const events = await this.#rest(first);
    return { snapshot: first.snapshot, events, version: first.version };
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
    // Long-polls: each wait answers as soon as the stream is past the last version delivered.
    const longPoll = (deliver: typeof listener, tailOptions: SubscribeOptions) =>
      followStream(
        reader,
        deliver,
        tailOptions,
        streamLongPoll(this.#target.transport, this.#path),
      );
    // A push socket first, when the store has them; the long-poll where none opens.
    return subscribeLive(
      this.#target.live,
      { path: `${this.#path}/live`, point: 'version' },
      listener,
      options,
      longPoll,
      () => reader.version(),
    );
  }
}

/** An integer option as a local store checks it (`InvalidArgumentError` naming it). */
export const checkInteger = (
  field: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(field, `must be an integer (got ${String(value)})`);
  }
  if (value < min) throw new InvalidArgumentError(field, `must be at least ${min} (got ${value})`);
  if (value > max) throw new InvalidArgumentError(field, `must be at most ${max}`);
  return value;
};

/** An options argument: an object, or nothing. */
export const checkOptions = <T extends object>(value: T | undefined): T => {
  if (value === undefined) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError('options', 'must be an object');
  }
  return value;
};

const versionSegment = (version: number): string => {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new InvalidArgumentError('version', `must be an integer of at least 1 (got ${version})`);
  }
  return String(version);
};
