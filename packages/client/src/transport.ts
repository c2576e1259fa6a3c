import {
  type Clock,
  errorFromJSON,
  InvalidArgumentError,
  parseRetryAfter,
  type RetryPolicy,
  type RetryVerdict,
  resolveRetryPolicy,
  systemClock,
  withRetries,
} from '@eventkv/core';
import { HttpError, isHttpErrorCode } from './http-error.js';
import { fromWire, SESSION_HEADER, toWire } from './wire.js';

/** A `fetch`-compatible function (the global one, a Worker service binding's, a test's). */
export type FetchLike = (input: Request) => Promise<Response>;

export interface RequestSpec {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  /** Sent as a wire JSON body when present. */
  readonly body?: unknown;
  readonly sessionId?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Whether sending the request twice has the effect of sending it once (default: for
   * `GET` only). Only such requests are retried after a failure that leaves open whether
   * the server processed them (the network, 502, 503, 504); any request is retried after
   * a `429`, which the server answers before processing anything.
   */
  readonly idempotent?: boolean;
  /** Cancels the request (a long-poll the caller no longer waits for): never retried. */
  readonly signal?: AbortSignal;
}

export interface Transport {
  request(spec: RequestSpec): Promise<unknown>;
}

export interface TransportOptions {
  readonly retry?: RetryPolicy | false | undefined;
  readonly clock?: Clock | undefined;
}

/** The status and server-given delay of a failed attempt, for the retry decision. */
const attempts = new WeakMap<object, { status: number; retryAfterMs: number | undefined }>();

const noted = <T extends Error>(error: T, status: number, retryAfterMs?: number): T => {
  attempts.set(error, { status, retryAfterMs });
  return error;
};

/** Turns an error response into core's error class, or an `HttpError` for HTTP-only codes. */
const failure = async (
  response: Response,
  operation: string,
  retryAfterMs: number | undefined,
): Promise<Error> => {
  let error: unknown;
  try {
    error = ((await response.json()) as { error?: unknown }).error;
  } catch (cause) {
    return new HttpError(
      'BAD_RESPONSE',
      response.status,
      `${operation}: HTTP ${response.status} with a body that is not an eventkv error`,
      { cause },
    );
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  if (isHttpErrorCode(code)) {
    const message = (error as { message?: unknown }).message;
    return new HttpError(
      code,
      response.status,
      typeof message === 'string' ? message : `${operation}: HTTP ${response.status}`,
      { retryAfter: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000) },
    );
  }
  if (typeof code !== 'string') {
    return new HttpError(
      'BAD_RESPONSE',
      response.status,
      `${operation}: HTTP ${response.status} with a body that is not an eventkv error`,
    );
  }
  return errorFromJSON(error, operation);
};

/** Statuses of a gateway or server that could not answer this time; the request may have been processed. */
const UNAVAILABLE: ReadonlySet<number> = new Set([502, 503, 504]);

/**
 * Whether a failed attempt may be repeated: after a `429` always (refused before any
 * processing); after a network failure, `502`, `503` or `504` only when repeating the
 * request is harmless; never after any other answer.
 */
const classify = (error: unknown, idempotent: boolean): RetryVerdict => {
  const attempt = typeof error === 'object' && error !== null ? attempts.get(error) : undefined;
  if (attempt === undefined) return false;
  const { status, retryAfterMs } = attempt;
  const retry = status === 429 || (idempotent && (status === 0 || UNAVAILABLE.has(status)));
  if (!retry) return false;
  return retryAfterMs === undefined ? true : { afterMs: retryAfterMs };
};

/** A bearer token, or a function giving the current one (called before every attempt). */
export type TokenSource = string | (() => string | Promise<string>);

/**
 * Requests to the eventkv Worker: the bearer token, wire JSON bodies, errors as core's
 * classes (or `HttpError` for HTTP-only failures), and retries of what is safe to repeat
 * (`RequestSpec.idempotent`; any request after a 429), honouring `Retry-After`. The HTTP
 * store is built on it, and so is any other client of the Worker (the sync remote).
 * @example
 * const transport = createTransport('https://eventkv.example.com', () => auth.token(), fetch);
 * await transport.request({ method: 'POST', path: '/v1/acme/sync/pull', body, idempotent: true });
 */
export const createTransport = (
  baseUrl: string,
  token: TokenSource,
  fetchFn: FetchLike,
  options: TransportOptions = {},
): Transport => {
  const base = baseUrl.replace(/\/+$/, '');
  const policy = resolveRetryPolicy(options.retry, 'options.retry');
  const clock = options.clock ?? systemClock;
  const bearer = async (): Promise<string> => {
    const current = typeof token === 'function' ? await token() : token;
    if (typeof current !== 'string' || current.length === 0) {
      throw new InvalidArgumentError('token', 'must be a non-empty string');
    }
    return current;
  };

  /** One attempt: the decoded answer, or the failure (noted with its status). */
  const send = async (
    spec: RequestSpec,
    url: URL,
    body: string | undefined,
    operation: string,
  ): Promise<unknown> => {
    const headers = new Headers(spec.headers);
    headers.set('Authorization', `Bearer ${await bearer()}`);
    headers.set('Accept', 'application/json');
    if (spec.sessionId !== undefined) headers.set(SESSION_HEADER, spec.sessionId);
    if (body !== undefined) headers.set('Content-Type', 'application/json');
    let response: Response;
    try {
      response = await fetchFn(
        new Request(url, {
          method: spec.method,
          headers,
          ...(body === undefined ? {} : { body }),
          ...(spec.signal === undefined ? {} : { signal: spec.signal }),
        }),
      );
    } catch (cause) {
      // Cancelled by the caller: final, not a network failure to retry.
      if (spec.signal?.aborted) throw cause;
      throw noted(
        new HttpError('NETWORK_FAILURE', 0, `${operation}: the request failed`, { cause }),
        0,
      );
    }
    if (!response.ok) {
      const retryAfterMs = parseRetryAfter(response.headers.get('Retry-After'), clock.now());
      throw noted(await failure(response, operation, retryAfterMs), response.status, retryAfterMs);
    }
    if (response.status === 204) return undefined;
    let text: string;
    try {
      text = await response.text();
    } catch (cause) {
      // The answer was cut off: the request may have been processed.
      throw noted(
        new HttpError('NETWORK_FAILURE', 0, `${operation}: the response was cut off`, { cause }),
        0,
      );
    }
    try {
      return fromWire(text);
    } catch (cause) {
      throw new HttpError(
        'BAD_RESPONSE',
        response.status,
        `${operation}: the response body is not wire JSON`,
        { cause },
      );
    }
  };

  return {
    async request(spec) {
      const url = new URL(base + spec.path);
      for (const [key, value] of Object.entries(spec.query ?? {})) {
        if (value !== undefined) url.searchParams.set(key, String(value));
      }
      // Encoded once: every attempt sends the same bytes.
      const body = spec.body === undefined ? undefined : toWire(spec.body);
      const operation = `${spec.method} ${url.pathname}`;
      const idempotent = spec.idempotent ?? spec.method === 'GET';
      return withRetries(() => send(spec, url, body, operation), {
        policy,
        clock,
        classify: (error) => classify(error, idempotent),
      });
    },
  };
};
