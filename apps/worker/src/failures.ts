import { HttpError, type HttpErrorCode } from '@eventkv/client';
import { type ErrorCode, errorToJSON, isEventKvError } from '@eventkv/core';

/** Statuses of store errors. Documented in the README's error table. */
const STORE_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  VERSION_MISMATCH: 409,
  DUPLICATE_IDEMPOTENCY_ID: 409,
  NOT_OPEN: 404,
  VERSION_NOT_FOUND: 404,
  SNAPSHOT_VERSION_NOT_FOUND: 404,
  IDEMPOTENCY_ID_NOT_FOUND: 404,
  // The session is over for good: 410 tells the caller not to retry with it.
  SESSION_EXPIRED: 410,
  STREAM_LOCKED: 423,
  OPEN_FAILED: 423,
  INVALID_SESSION: 423,
  // Stored data the store cannot return: permanent (not retryable), and not the caller's
  // request at fault either; 422 keeps it apart from the retryable 5xx statuses.
  CORRUPT_RECORD: 422,
  STORAGE_FAILURE: 503,
  STORAGE_BLOCKED: 503,
  STORAGE_FULL: 507,
  // Never reaches users (core translates it), but a status is needed for completeness.
  KV_CONDITION_FAILED: 500,
};

export const STATUS_OF: Record<HttpErrorCode, number> = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  ROUTE_NOT_FOUND: 404,
  MALFORMED_BODY: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  AUTH_NOT_CONFIGURED: 500,
  INTERNAL: 500,
  NETWORK_FAILURE: 502,
  BAD_RESPONSE: 502,
};

/** An HTTP-only failure with its status. */
export const httpFailure = (
  code: HttpErrorCode,
  message: string,
  options: { retryAfter?: number } = {},
): HttpError => new HttpError(code, STATUS_OF[code], message, options);

/** Throws an HTTP-only failure; the error handler turns it into its JSON response. */
export const fail = (
  code: HttpErrorCode,
  message: string,
  options: { retryAfter?: number } = {},
): never => {
  throw httpFailure(code, message, options);
};

/** The JSON error response of any thrown value: `{ error: ErrorJSON }` with its status. */
export const errorResponse = (error: unknown): Response => {
  if (error instanceof HttpError) {
    const headers: Record<string, string> = {};
    if (error.retryAfter !== undefined) headers['Retry-After'] = String(error.retryAfter);
    if (error.code === 'UNAUTHORIZED') headers['WWW-Authenticate'] = 'Bearer realm="eventkv"';
    return Response.json(
      { error: { code: error.code, message: error.message } },
      { status: error.status, headers },
    );
  }
  if (isEventKvError(error)) {
    return Response.json(
      { error: errorToJSON(error) },
      { status: STORE_STATUS[error.code] ?? 500 },
    );
  }
  // A bug, not a store failure: log it, and do not leak its details to the caller.
  console.error('eventkv worker: unexpected error', error);
  return Response.json(
    {
      error: {
        code: 'INTERNAL',
        message: 'Internal error. Nothing was acknowledged; retry later.',
      },
    },
    { status: 500 },
  );
};
