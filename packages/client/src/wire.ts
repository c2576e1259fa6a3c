import { InvalidArgumentError } from '@eventkv/core';
import { SuperJSON } from 'superjson';

/**
 * The wire format shared by the Worker and this client. Request and response bodies are
 * superjson documents (`{ "json": ..., "meta": ... }`, content type `application/json`), so
 * Dates, BigInt, Map, Set, `undefined` and more round-trip. Error responses are plain JSON
 * `{ "error": ErrorJSON }`.
 */
export const API_VERSION = 'v1';

/** Names the session a request acts in (its id from `POST .../sessions`). */
export const SESSION_HEADER = 'Eventkv-Session';

const wire = new SuperJSON();

/** A value as a wire body. */
export const toWire = (value: unknown): string => wire.stringify(value);

/** A wire body as a value. Throws on text that is not a superjson document. */
export const fromWire = (text: string): unknown => {
  const doc: unknown = JSON.parse(text);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !('json' in doc)) {
    throw new SyntaxError('body is not a superjson document ({ "json": ..., "meta"?: ... })');
  }
  return wire.deserialize(doc as Parameters<typeof wire.deserialize>[0]);
};

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
