import { errorFromJSON } from '@eventkv/core';
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
}

export interface Transport {
  request(spec: RequestSpec): Promise<unknown>;
}

const retryAfterOf = (response: Response): number | undefined => {
  const value = Number(response.headers.get('Retry-After'));
  return Number.isFinite(value) && value > 0 ? value : undefined;
};

/** Turns an error response into core's error class, or an `HttpError` for HTTP-only codes. */
const failure = async (response: Response, operation: string): Promise<Error> => {
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
      { retryAfter: retryAfterOf(response) },
    );
  }
  return errorFromJSON(error, operation);
};

export const createTransport = (baseUrl: string, token: string, fetchFn: FetchLike): Transport => {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    async request(spec) {
      const url = new URL(base + spec.path);
      for (const [key, value] of Object.entries(spec.query ?? {})) {
        if (value !== undefined) url.searchParams.set(key, String(value));
      }
      const headers = new Headers(spec.headers);
      headers.set('Authorization', `Bearer ${token}`);
      headers.set('Accept', 'application/json');
      if (spec.sessionId !== undefined) headers.set(SESSION_HEADER, spec.sessionId);
      let body: string | undefined;
      if (spec.body !== undefined) {
        body = toWire(spec.body);
        headers.set('Content-Type', 'application/json');
      }
      const operation = `${spec.method} ${url.pathname}`;
      let response: Response;
      try {
        response = await fetchFn(
          new Request(url, {
            method: spec.method,
            headers,
            ...(body === undefined ? {} : { body }),
          }),
        );
      } catch (cause) {
        throw new HttpError('NETWORK_FAILURE', 0, `${operation}: the request failed`, { cause });
      }
      if (!response.ok) throw await failure(response, operation);
      if (response.status === 204) return undefined;
      const text = await response.text();
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
    },
  };
};
