import { fromWireJson, InvalidArgumentError, toWireJson } from '@eventkv/core';

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
 * The fast paths below handle values this deep at most; deeper ones go to core, which
 * refuses what nests beyond its own bound.
 */
const FAST_DEPTH = 100;

/** `$`: a property name starting with it is a tag, or must be inside `$object`. */
const DOLLAR = 36;

/**
 * Whether wire JSON writes `v` as plain `JSON.stringify` does: strings, booleans, null,
 * finite numbers but -0, arrays and plain objects of them with no property name starting
 * with `$` and no `undefined` (everything else is tagged, or refused, by `toWireJson`).
 */
const writesAsJson = (v: unknown, depth: number): boolean => {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object':
      break;
    default:
      return false;
  }
  if (v === null) return true;
  if (depth > FAST_DEPTH) return false;
  if (Array.isArray(v)) {
    // An array's own toJSON would be called by JSON.stringify (toWireJson writes the items).
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
    for (let i = 0; i < v.length; i++) if (!writesAsJson(v[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key of Object.keys(v)) {
    if (key.charCodeAt(0) === DOLLAR) return false;
    if (!writesAsJson((v as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
};

/**
 * A value as a wire body. A value with nothing to tag is its plain JSON: checked without
 * copying it, then `JSON.stringify`, where `toWireJson` builds a tagged copy first (three
 * times the Worker's CPU for a page of events).
 */
export const toWire = (value: unknown): string =>
  writesAsJson(value, 0) ? JSON.stringify(value) : toWireJson(value);

/** Whether parsed JSON holds no tag (no property name starting with `$`) to decode. */
const untagged = (v: unknown, depth: number): boolean => {
  if (typeof v !== 'object' || v === null) return true;
  if (depth > FAST_DEPTH) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!untagged(v[i], depth + 1)) return false;
    return true;
  }
  for (const key in v) {
    if (key.charCodeAt(0) === DOLLAR) return false;
    if (!untagged((v as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
};

/**
 * A wire body as a value. Throws (`SyntaxError`, `RangeError`) on text that is not wire JSON.
 * Text with no tag in it is its parsed JSON as it is: checked without copying it, where
 * `fromWireJson` decodes a copy of every object (text with tags goes there).
 */
export const fromWire = (text: string): unknown => {
  const parsed: unknown = JSON.parse(text);
  return untagged(parsed, 0) ? parsed : fromWireJson(text);
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
