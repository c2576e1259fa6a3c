/**
 * Codes of failures that belong to HTTP rather than to the store: authentication, tenant
 * isolation, routing, body limits, rate limits and transport.
 */
export type HttpErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'ROUTE_NOT_FOUND'
  | 'MALFORMED_BODY'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'AUTH_NOT_CONFIGURED'
  | 'INTERNAL'
  | 'NETWORK_FAILURE'
  | 'BAD_RESPONSE';

const CODES: ReadonlySet<string> = new Set<HttpErrorCode>([
  'UNAUTHORIZED',
  'FORBIDDEN',
  'ROUTE_NOT_FOUND',
  'MALFORMED_BODY',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'AUTH_NOT_CONFIGURED',
  'INTERNAL',
  'NETWORK_FAILURE',
  'BAD_RESPONSE',
]);

/** Whether a string is one of the HTTP-only error codes. */
export const isHttpErrorCode = (code: unknown): code is HttpErrorCode =>
  typeof code === 'string' && CODES.has(code);

/**
 * A failure of the HTTP layer (not of the store): `status` is the HTTP status (0 when no
 * response arrived), `code` says which failure. Store failures are rethrown as core's own
 * error classes instead.
 */
export class HttpError extends Error {
  readonly code: HttpErrorCode;
  readonly status: number;
  /**
   * Seconds to wait before retrying, from `Retry-After` (429, 503): its delay-seconds, or
   * the seconds left until its HTTP-date.
   */
  readonly retryAfter: number | undefined;

  constructor(
    code: HttpErrorCode,
    status: number,
    message: string,
    options: { cause?: unknown; retryAfter?: number | undefined } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'HttpError';
    this.code = code;
    this.status = status;
    this.retryAfter = options.retryAfter;
  }
}

/** Whether an error is an `HttpError` (matched by shape, so it works across realms). */
export const isHttpError = (error: unknown): error is HttpError =>
  error instanceof Error &&
  error.name === 'HttpError' &&
  isHttpErrorCode((error as { code?: unknown }).code) &&
  typeof (error as { status?: unknown }).status === 'number';
