import {
  DEFAULT_PAYLOAD_LIMITS,
  type EventInput,
  type EventShape,
  type EventStream,
  type ExpectedVersion,
  InvalidArgumentError,
  type LoadResult,
  payloadSize,
  type ReadOptions,
  type RecordedEvent,
} from '@eventkv/core';
import { Hono } from 'hono';
import { readBody } from '../body.js';
import type { ApiEnv } from '../context.js';
import { parseIfMatch, parseInteger, queryParams } from '../params.js';
import { streamOf, wire } from '../respond.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Body `{ events, expectedVersion? }`; the expected version may come from `If-Match` instead. */
const appendInput = (
  body: unknown,
  ifMatch: string | null,
): { events: EventInput<EventShape>[]; expectedVersion: ExpectedVersion | undefined } => {
  if (!isRecord(body))
    throw new InvalidArgumentError('body', 'must be an object { events, expectedVersion? }');
  for (const key of Object.keys(body)) {
    if (key !== 'events' && key !== 'expectedVersion') {
      throw new InvalidArgumentError(
        `body.${key}`,
        'is not an append field (events, expectedVersion)',
      );
    }
  }
  if (!Array.isArray(body.events))
    throw new InvalidArgumentError('body.events', 'must be an array of events');
  const fromHeader = parseIfMatch(ifMatch);
  const fromBody = body.expectedVersion as ExpectedVersion | undefined;
  if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
    throw new InvalidArgumentError(
      'If-Match',
      `disagrees with body.expectedVersion (${String(fromHeader)} vs ${String(fromBody)})`,
    );
  }
  return {
    events: body.events as EventInput<EventShape>[],
    expectedVersion: fromHeader ?? fromBody,
  };
};

/** How large one answer of `GET .../events` may grow: events, and bytes of their payloads. */
export interface PageLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
}

/**
 * The largest answer of `GET .../events`: 500 events, 4 MiB of events (`payloadSize`);
 * its `next` says how to read the rest.
 */
export const EVENTS_PAGE_LIMITS: PageLimits = Object.freeze({
  maxEvents: 500,
  maxBytes: 4 * 1024 * 1024,
});

/** What an event weighs in an answer: its data and metadata in `payloadSize` units. */
const eventSize = (event: RecordedEvent, limits: PageLimits): number => {
  try {
    return 16 + event.type.length + payloadSize(event.data) + payloadSize(event.metadata);
  } catch {
    // Outside the payload contract (a custom codec's): it travels alone in its page.
    return limits.maxBytes;
  }
};

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;

/** One answer of `GET .../events`: the events and, when the range goes on, how to read the rest. */
export interface EventsPage {
  readonly events: RecordedEvent[];
  /** The read options (query parameters) of the rest of the range; absent on the last page. */
  readonly next?: ReadOptions;
}

/**
 * One page of `stream.read(options)`: at most `limits.maxEvents` events and, past the
 * first event, `limits.maxBytes` of them, read in chunks sized from what the events
 * weigh so far (each chunk is one call to the store). When the range goes on, `next`
 * reads the rest: a forward range without an end gets the stream's version as its end,
 * so every page belongs to one range.
 */
export const readEventsPage = async (
  stream: Pick<EventStream, 'read' | 'version'>,
  options: ReadOptions,
  limits: PageLimits = EVENTS_PAGE_LIMITS,
): Promise<EventsPage> => {
  if (options.limit !== undefined && !isCount(options.limit)) {
    return { events: await stream.read(options) }; // refused by the store, as a local read
  }
  const backward = options.direction === 'backward';
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let from = options.from ?? 1;
  let to = options.to;
  // The first chunk holds as many of the largest events the default limits allow as fit.
  let chunk = Math.floor(limits.maxBytes / DEFAULT_PAYLOAD_LIMITS.maxEventBytes);
  let request: ReadOptions = options;
  const events: RecordedEvent[] = [];
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
      const size = eventSize(event, limits);
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
      ...(backward ? { direction: 'backward' as const } : {}),
    };
    chunk = Math.floor((limits.maxBytes - bytes) / heaviest);
  }
};

/**
 * One answer of `GET .../events?snapshot=true`: the latest snapshot, then a page of the
 * events after it (the snapshot's state counted in the page's bytes). `version` is the
 * version the whole load stands for: `next` reads up to it.
 */
export const loadEventsPage = async (
  stream: Pick<EventStream, 'read' | 'version' | 'latestSnapshot'>,
  limits: PageLimits = EVENTS_PAGE_LIMITS,
): Promise<LoadResult<EventShape, unknown> & EventsPage> => {
  const snapshot = await stream.latestSnapshot();
  let stateSize = 0;
  try {
    stateSize = snapshot === undefined ? 0 : payloadSize(snapshot.state);
  } catch {
    stateSize = limits.maxBytes;
  }
  const page = await readEventsPage(
    stream,
    { from: (snapshot?.version ?? 0) + 1 },
    { maxEvents: limits.maxEvents, maxBytes: Math.max(0, limits.maxBytes - stateSize) },
  );
  const version = page.next?.to ?? page.events.at(-1)?.version ?? snapshot?.version ?? 0;
  return { snapshot, events: page.events, version, ...(page.next ? { next: page.next } : {}) };
};

/** Routes under `/v1/{database}/streams/{type}/{id}`: events, version, message lookup. */
export const eventRoutes = new Hono<ApiEnv>()
  .post('/events', async (c) => {
    queryParams(c.req.url, []);
    const body = await readBody(c.req.raw, c.var.settings.maxBodyBytes, true);
    const { events, expectedVersion } = appendInput(body, c.req.header('If-Match') ?? null);
    const stream = await streamOf(c);
    const result = await stream.append(
      events,
      expectedVersion === undefined ? {} : { expectedVersion },
    );
    return wire(result, result.deduplicated ? 200 : 201, { ETag: `"${result.version}"` });
  })
  .get('/events', async (c) => {
    const q = queryParams(c.req.url, ['from', 'to', 'direction', 'limit', 'snapshot']);
    const stream = await streamOf(c);
    if (q.snapshot !== undefined && q.snapshot !== 'false') {
      if (q.snapshot !== 'true')
        throw new InvalidArgumentError('snapshot', "must be 'true' or 'false'");
      if (
        q.from !== undefined ||
        q.to !== undefined ||
        q.direction !== undefined ||
        q.limit !== undefined
      ) {
        throw new InvalidArgumentError(
          'snapshot',
          'cannot be combined with from, to, direction or limit',
        );
      }
      const loaded = await loadEventsPage(stream);
      return wire(loaded, 200, { ETag: `"${loaded.version}"` });
    }
    const options: { -readonly [K in keyof ReadOptions]: ReadOptions[K] } = {};
    const from = parseInteger('from', q.from);
    const to = parseInteger('to', q.to);
    const limit = parseInteger('limit', q.limit);
    if (from !== undefined) options.from = from;
    if (to !== undefined) options.to = to;
    if (limit !== undefined) options.limit = limit;
    if (q.direction !== undefined) options.direction = q.direction as 'forward' | 'backward';
    return wire(await readEventsPage(stream, options));
  })
  .get('/version', async (c) => {
    queryParams(c.req.url, []);
    const version = await (await streamOf(c)).version();
    return wire({ version }, 200, { ETag: `"${version}"` });
  })
  .get('/messages/:messageId', async (c) => {
    queryParams(c.req.url, []);
    const messageId = c.req.param('messageId');
    return wire({ version: await (await streamOf(c)).versionOf(messageId) });
  });
