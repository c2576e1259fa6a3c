import { prepareAppend } from './append.js';
import { structuredCodec } from './codec/structured.js';
import { SessionExpiredError, type StreamId } from './errors.js';
import { defaultIdGenerator, type IdGenerator } from './ids.js';
import type { Context } from './options.js';
import { DEFAULT_PAYLOAD_LIMITS, preparePayload } from './payload.js';
import type { EventInput, EventMetadataInput, EventShape, ExpectedVersion } from './types.js';
import { validateName, validateTime } from './validate.js';

/**
 * What a store that forwards the API elsewhere (the HTTP client, the Durable Object caller)
 * checks before a request leaves, so that bad input fails on the caller's side exactly as
 * it would in a local store (`InvalidArgumentError` naming the field), and so that a
 * retried request carries the same message ids as its first attempt.
 */

export interface RemoteAppend<E extends EventShape = EventShape> {
  /** The events, each with a `metadata.messageId` (the caller's, or a generated one). */
  readonly events: EventInput<E>[];
  readonly expectedVersion: ExpectedVersion;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** The settings a local store checks appends with, at their defaults. */
const checks = (generateId: IdGenerator): Context =>
  ({
    codec: structuredCodec,
    passThrough: true,
    // Copies: what is sent (and re-sent by a retry) is exactly what was checked, with plain
    // prototypes (Workers RPC cannot carry null-prototype objects).
    isolate: true,
    generateId,
    maxEventsPerAppend: 1000,
    maxEventBytes: DEFAULT_PAYLOAD_LIMITS.maxEventBytes,
    maxAppendBytes: DEFAULT_PAYLOAD_LIMITS.maxAppendBytes,
  }) as Context;

/**
 * Checks an append as a store with default settings would (events, names, metadata, the
 * payload contract and its size limits, the expected version) and gives every event a
 * message id, once, before the first attempt: a retry of the returned events is then an
 * exact retry, which the store answers with the stored result instead of appending twice.
 * @example
 * const { events, expectedVersion } = prepareRemoteAppend(input, options);
 * await withRetries(() => send({ events, expectedVersion }), policy, isRetryable);
 */
export const prepareRemoteAppend = <E extends EventShape = EventShape>(
  events: unknown,
  options?: unknown,
  generateId: IdGenerator = defaultIdGenerator,
): RemoteAppend<E> => {
  const prepared = prepareAppend(checks(generateId), events, options);
  return {
    expectedVersion: prepared.expected,
    events: prepared.events.map((e) => {
      const metadata: Writable<EventMetadataInput> = { messageId: e.messageId };
      if (e.schemaVersion !== 1) metadata.schemaVersion = e.schemaVersion;
      if (e.userId !== undefined) metadata.userId = e.userId;
      if (e.correlationId !== undefined) metadata.correlationId = e.correlationId;
      if (e.causationId !== undefined) metadata.causationId = e.causationId;
      const event: Record<string, unknown> = { type: e.type, metadata };
      if (e.hasData) event.data = e.data;
      return event as unknown as EventInput<E>;
    }),
  };
};

/**
 * Checks a snapshot state against the payload contract and the default size limit, and
 * returns the copy to send (frozen, with plain prototypes).
 */
export const checkSnapshotState = (state: unknown): unknown =>
  preparePayload(state, 'state', true, DEFAULT_PAYLOAD_LIMITS.maxSnapshotBytes, 'maxSnapshotBytes')
    .value;

/**
 * Checks a name (database, aggregate type or id, message or session id) as a store does:
 * 1-256 characters of well-formed Unicode without control characters.
 */
export const checkName = (field: string, value: unknown): string => validateName(field, value);

/**
 * Checks a time option (`since`, `until`: a `Date` or milliseconds since the epoch) as a
 * store does, and returns it in milliseconds (`undefined` when not given).
 */
export const checkTime = (field: string, value: unknown): number | undefined =>
  validateTime(field, value);

/**
 * What a session's call that failed remotely means to its caller. The server knows only
 * its lease: once a session ran out, the lease is gone (`NOT_OPEN`) or another session's
 * (`INVALID_SESSION`). A session past the expiry it was given reports that as a local store
 * does, `SessionExpiredError`; anything else is returned as it is.
 */
export const remoteSessionError = (
  error: unknown,
  session: { readonly ref: StreamId; readonly sessionId: string; readonly expiresAt: number },
  now: number,
): unknown => {
  const code = (error as { code?: unknown } | null)?.code;
  if ((code === 'NOT_OPEN' || code === 'INVALID_SESSION') && now >= session.expiresAt) {
    return new SessionExpiredError(session.ref, session.sessionId, session.expiresAt);
  }
  return error;
};
