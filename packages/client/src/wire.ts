import { fromWireJson, InvalidArgumentError, type OwnAppend, toWireJson } from '@eventkv/core';

/**
 * The wire format shared by the Worker and this client. Request and response bodies are
 * wire JSON (content type `application/json`): plain JSON, with the values JSON lacks
 * (Dates, BigInt, Map, Set, `undefined`, binary data, NaN...) as `{"$date": ...}`-style
 * tagged objects; see `toWireJson` in `@eventkv/core`. A plain JSON document is a valid
 * body. Error responses are plain JSON `{ "error": ErrorJSON }`.
 */
export const API_VERSION = 'v1';

/** Names the session a request acts in (its id from `POST .../sessions`). */
export const SESSION_HEADER = 'Eventkv-Session';

/**
 * Names the caller's own appends a database-wide read (a query, the log, its position) must
 * see: `type/id/version` per stream (type and id percent-encoded), separated by commas, at
 * most `MAX_HOLDS` streams. Under the Worker's `stream` routing the read first waits until
 * the database's feed holds them, whichever Worker instance took the appends.
 */
export const HOLDS_HEADER = 'Eventkv-Holds';

/** The most streams one `Eventkv-Holds` header names (the client names its most recent). */
export const MAX_HOLDS = 100;

/**
 * The longest `Eventkv-Holds` header, in characters (it is ASCII: bytes too). A stream's
 * entry can take some 4.6 kB (type and id of 256 characters, percent-encoded at up to 9
 * characters each), so 100 of them could pass any server's limit; 8 KiB is the smallest
 * per-header limit of common proxies (nginx's default `large_client_header_buffers`) and
 * half of Cloudflare's per-header limit.
 */
export const MAX_HOLDS_LENGTH = 8 * 1024;

/**
 * The `Eventkv-Holds` values naming `appends`: one header's worth each (at most `MAX_HOLDS`
 * streams and `MAX_HOLDS_LENGTH` characters), in order; none for no appends.
 */
export const holdsHeaders = (appends: readonly OwnAppend[]): string[] => {
  const headers: string[] = [];
  let header = '';
  let streams = 0;
  for (const { ref, version } of appends) {
    const entry = `${encodeURIComponent(ref.type)}/${encodeURIComponent(ref.id)}/${version}`;
    if (
      streams > 0 &&
      (streams === MAX_HOLDS || header.length + 1 + entry.length > MAX_HOLDS_LENGTH)
    ) {
      headers.push(header);
      header = '';
      streams = 0;
    }
    header = streams === 0 ? entry : `${header},${entry}`;
    streams++;
  }
  if (streams > 0) headers.push(header);
  return headers;
};

/**
 * A value as a wire body: core's `toWireJson` (plain JSON, checked without a copy, when
 * there is nothing to tag). One encoder for every writer: the Worker, and the Durable
 * Object that writes the text of a read's page for it, write the same text.
 */
export const toWire: (value: unknown) => string = toWireJson;

/**
 * A wire body as a value: core's `fromWireJson`. Throws (`SyntaxError`, `RangeError`) on
 * text that is not wire JSON.
 */
export const fromWire: (text: string) => unknown = fromWireJson;

/** Encodes one name as one path segment (`/` and `%` included, so it stays one segment). */
export const encodeSegment = (name: string): string => encodeURIComponent(name);

/**
 * A name that can travel as a path segment: non-empty, and not `.` or `..`, which URL
 * parsers resolve as dot segments (encoded or not) before the server sees them.
 */
export const segmentName = (field: string, value: unknown): string => {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(field, 'must be a non-empty string');
  }
  if (value === '.' || value === '..') {
    throw new InvalidArgumentError(field, `cannot be '${value}' over HTTP (a URL dot segment)`);
  }
  return value;
};

/** The path of a stream's resource, e.g. `/v1/acme/streams/Account/42/events`. */
export const streamPath = (database: string, type: string, id: string): string =>
  `/${API_VERSION}/${encodeSegment(database)}/streams/${encodeSegment(type)}/${encodeSegment(id)}`;
