import { PUSH_SUBPROTOCOL } from '@eventkv/core';
import type { TokenSource } from './transport.js';

/** What a push socket delivers to its listeners (a browser's `MessageEvent`/`CloseEvent` is one). */
export interface PushSocketEvent {
  /** A message's text. */
  readonly data?: unknown;
  /** A close's code and reason. */
  readonly code?: number;
  readonly reason?: string;
}

/**
 * The part of a WebSocket the live push uses: the browser's `WebSocket` (and Node's from
 * version 22, and the `ws` package's) is one.
 */
export interface PushSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: 'open' | 'close' | 'error' | 'message',
    listener: (event: PushSocketEvent) => void,
  ): void;
}

/** Makes a socket: `new WebSocket(url, protocols)`. */
export type PushSocketConstructor = new (url: string, protocols: string[]) => PushSocket;

/** Opens the push sockets of one Worker. */
export interface PushOpener {
  /** A socket to `path` (e.g. `/v1/acme/log/live`) with `query`, its token fetched now. */
  open(path: string, query: Readonly<Record<string, number>>): Promise<PushSocket>;
}

/** The prefix of the subprotocol that carries the token (a browser cannot set headers on a WebSocket). */
const TOKEN_PREFIX = 'bearer.';

/**
 * Push sockets to the Worker at `baseUrl` (`https:` becomes `wss:`), each offering the
 * push subprotocol and the current token as `bearer.<token>`.
 */
export const createPushOpener = (
  baseUrl: string,
  token: TokenSource,
  Socket: PushSocketConstructor,
): PushOpener => {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    async open(path, query) {
      const url = new URL(base + path);
      url.protocol =
        url.protocol === 'https:' ? 'wss:' : url.protocol === 'http:' ? 'ws:' : url.protocol;
      for (const [key, value] of Object.entries(query)) url.searchParams.set(key, String(value));
      const current = typeof token === 'function' ? await token() : token;
      return new Socket(String(url), [PUSH_SUBPROTOCOL, TOKEN_PREFIX + current]);
    },
  };
};
