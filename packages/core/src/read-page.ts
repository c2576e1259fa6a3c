import { DEFAULT_PAYLOAD_LIMITS, payloadSize } from './payload.js';
import type { EventStream } from './stream.js';
import type { EventShape, ReadOptions, RecordedEvent } from './types.js';

/**
 * Reads answered in bounded pages, for stores that forward reads over a channel with a
 * size limit (Workers RPC, an HTTP response): the server answers a page and how to go on,
 * the caller follows `next` until the range is complete.
 */

/** How much one page may carry. */
export interface PageLimits {
  /** Most events in a page. */
  readonly maxEvents: number;
  /** Most bytes of events in a page, past its first event (which always goes). */
  readonly maxBytes: number;
}

/** A page of a read: `next` (when present) reads the rest of the same range. */
export interface ReadPage<E extends EventShape = EventShape> {
  readonly events: RecordedEvent<E>[];
  readonly next?: ReadOptions;
}

/**
 * What an event weighs in a page, in `payloadSize` units: its data and metadata, its type
 * and a fixed 16 for its version and the rest. Throws, as `payloadSize` does, for a value
 * outside the payload contract (what a custom codec decodes to): the caller decides what
 * such an event weighs.
 */
const eventWeight = (event: RecordedEvent): number =>
  16 + event.type.length + payloadSize(event.data) + payloadSize(event.metadata);

/**
 * `eventWeight`, or all of `maxBytes` for an event outside the payload contract, which so
 * travels alone in its page: the weighing of the pages of `GET .../events`, cut by the
 * Worker or, for it, by the stream's Durable Object.
 */
export const pageEventWeight =
  (maxBytes: number) =>
  (event: RecordedEvent): number => {
    try {
      return eventWeight(event);
    } catch {
      return maxBytes;
    }
  };

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;

/**
 * One page of `stream.read(options)`: at most `limits.maxEvents` events and, past the
 * first event, `limits.maxBytes` of them (as `measure` weighs them), read in chunks sized from
 * what the events weigh so far. When the range goes on, `next` reads the rest: a forward
 * range without an end gets the stream's version as its end, so every page belongs to
 * one range. The options reach the store as the caller gave them (it checks them).
 */
export const readPage = async <E extends EventShape>(
  stream: Pick<EventStream<E>, 'read' | 'version'>,
  options: ReadOptions,
  limits: PageLimits,
  measure: (event: RecordedEvent<E>) => number,
): Promise<ReadPage<E>> => {
  if (
    typeof options !== 'object' ||
    options === null ||
    (options.limit !== undefined && !isCount(options.limit))
  ) {
    // Not options a page can be cut from: the store refuses them as a local read does.
    return { events: await stream.read(options) };
  }
  const backward = options.direction === 'backward';
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let from = options.from ?? 1;
  let to = options.to;
  // The first chunk holds as many of the largest events the default limits allow as fit.
  let chunk = Math.floor(limits.maxBytes / DEFAULT_PAYLOAD_LIMITS.maxEventBytes);
  let request: ReadOptions = options;
  const events: RecordedEvent<E>[] = [];
  let bytes = 0;
  let heaviest = 1;
  for (;;) {
    const want = Math.max(
      1,
      Math.min(limit - events.length, limits.maxEvents - events.length, chunk),
    );
    const got = await stream.read({ ...request, limit: want });
    let full = false;
    for (const event of got) {
      const size = measure(event);
      if (events.length > 0 && bytes + size > limits.maxBytes) {
        full = true;
        break;
      }
      events.push(event);
      bytes += size;
      heaviest = Math.max(heaviest, size);
    }
    const last = events.at(-1);
    if ((!full && got.length < want) || last === undefined) return { events };
    if (backward) to = last.version - 1;
    else from = last.version + 1;
    const left = limit - events.length;
    if (left === 0 || (to !== undefined && from > to)) return { events };
    if (full || events.length >= limits.maxEvents) {
      to ??= await stream.version();
      if (from > to) return { events };
      const next: ReadOptions = {
        from,
        to,
        ...(backward ? { direction: 'backward' as const } : {}),
        ...(left === Number.POSITIVE_INFINITY ? {} : { limit: left }),
      };
      return { events, next };
    }
    request = {
      from,
      ...(to === undefined ? {} : { to }),
      ...(backward ? { direction: 'backward' } : {}),
    };
    chunk = Math.floor((limits.maxBytes - bytes) / heaviest);
  }
};
