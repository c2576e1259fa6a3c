import {
  type EventInput,
  type EventShape,
  type EventStream,
  type ExpectedVersion,
  InvalidArgumentError,
  type LoadResult,
  pageEventWeight,
  payloadSize,
  type ReadOptions,
  type RecordedEvent,
  readPage,
  storedToWire,
} from '@eventkv/core';
import { Hono } from 'hono';
import { readBody } from '../body.js';
import type { ApiEnv } from '../context.js';
import { firstDelivery, parseWait } from '../long-poll.js';
import { parseIfMatch, parseInteger, queryParams } from '../params.js';
import { streamOf, wire, wireText } from '../respond.js';

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

/** One answer of `GET .../events`: the events and, when the range goes on, how to read the rest. */
export interface EventsPage {
  readonly events: RecordedEvent[];
  /** The read options (query parameters) of the rest of the range; absent on the last page. */
  readonly next?: ReadOptions;
}

/** A stream whose store cuts a page itself (a Durable Object's, `RemoteStream.readPage`). */
interface PagedStream {
  readPage(options: ReadOptions, limits: PageLimits): Promise<EventsPage>;
}

const isPaged = (stream: object): stream is PagedStream =>
  typeof (stream as Partial<PagedStream>).readPage === 'function';

/**
 * One answer of `GET .../events`: a page (`readPage` in core) of events weighed by their
 * data and metadata (`pageEventWeight`; an event outside the payload contract travels
 * alone). A Durable Object's stream cuts the page in its object, weighing each event
 * once there, and the page is passed on as it comes.
 */
export const readEventsPage = (
  stream: Pick<EventStream, 'read' | 'version'>,
  options: ReadOptions,
  limits: PageLimits = EVENTS_PAGE_LIMITS,
): Promise<EventsPage> =>
  isPaged(stream)
    ? stream.readPage(options, limits)
    : readPage(stream, options, limits, pageEventWeight(limits.maxBytes));

/** A stream whose store writes a page's text itself (a Durable Object's, `RemoteStream.readWirePage`). */
interface WirePagedStream {
  readWirePage(
    options: ReadOptions,
    limits: PageLimits,
  ): Promise<{ readonly text: string; readonly events: number }>;
}

const isWirePaged = (stream: object): stream is WirePagedStream =>
  typeof (stream as Partial<WirePagedStream>).readWirePage === 'function';

/**
 * The body of `GET .../events` (`readEventsPage`'s page as wire JSON) and how many events
 * it holds. A Durable Object's stream answers the text itself, written in its object
 * (same cut, same text, same errors), and the Worker sends it as it comes: the events
 * never cross RPC as values to be written again here.
 */
export const readEventsText = async (
  stream: Pick<EventStream, 'read' | 'version'>,
  options: ReadOptions,
  limits: PageLimits = EVENTS_PAGE_LIMITS,
): Promise<{ readonly text: string; readonly events: number }> => {
  if (isWirePaged(stream)) return stream.readWirePage(options, limits);
  const page = await readEventsPage(stream, options, limits);
  return { text: storedToWire(page), events: page.events.length };
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
    const body = await readBody(c.req.raw, c.get('settings').maxBodyBytes, true);
    const { events, expectedVersion } = appendInput(body, c.req.header('If-Match') ?? null);
    const stream = await streamOf(c);
    const result = await stream.append(
      events,
      expectedVersion === undefined ? {} : { expectedVersion },
    );
    return wire(result, result.deduplicated ? 200 : 201, { ETag: `"${result.version}"` });
  })
  .get('/events', async (c) => {
    const q = queryParams(c.req.url, ['from', 'to', 'direction', 'limit', 'snapshot', 'wait']);
    const wait = parseWait(q.wait);
    const stream = await streamOf(c);
    if (q.snapshot !== undefined && q.snapshot !== 'false') {
      if (q.snapshot !== 'true')
        throw new InvalidArgumentError('snapshot', "must be 'true' or 'false'");
      if (
        q.from !== undefined ||
        q.to !== undefined ||
        q.direction !== undefined ||
        q.limit !== undefined ||
        wait !== undefined
      ) {
        throw new InvalidArgumentError(
          'snapshot',
          'cannot be combined with from, to, direction, limit or wait',
        );
      }
      const loaded = await loadEventsPage(stream);
      return wire(loaded, 200, { ETag: `"${loaded.version}"` });
    }
    // Forward only: a backward read has no "next" to wait for.
    if (wait !== undefined && q.direction === 'backward') {
      throw new InvalidArgumentError('wait', "cannot be combined with direction 'backward'");
    }
    const options: { -readonly [K in keyof ReadOptions]: ReadOptions[K] } = {};
    const from = parseInteger('from', q.from);
    const to = parseInteger('to', q.to);
    const limit = parseInteger('limit', q.limit);
    if (from !== undefined) options.from = from;
    if (to !== undefined) options.to = to;
    if (limit !== undefined) options.limit = limit;
    if (q.direction !== undefined) options.direction = q.direction as 'forward' | 'backward';
    const page = await readEventsText(stream, options);
    if (wait === undefined || wait === 0 || page.events > 0) return wireText(page.text);
    // A long-poll: nothing at or after `from` yet; answers once the stream reaches it (or
    // `wait` passes), with the page read then.
    await firstDelivery(
      (listener, onError) => stream.subscribe(listener, { from: options.from ?? 1, onError }),
      wait,
      c.req.raw.signal,
    );
    return wireText((await readEventsText(stream, options)).text);
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
