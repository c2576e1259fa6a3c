import type { PushSocket, PushSocketEvent } from '@eventkv/client';

// A push socket of `@eventkv/client` that reaches the Worker under test in workerd (through a
// `fetch` such as `send`) instead of the network.

/** What the sockets of a test did. */
export interface SocketLog {
  readonly urls: string[];
  readonly closes: number[];
  readonly open: WorkerSocket[];
}

/** A WebSocket that reaches the Worker under test (through `via`) instead of the network. */
export class WorkerSocket implements PushSocket {
  readyState = 0;
  #socket: WebSocket | undefined;
  readonly #listeners = new Map<string, ((event: PushSocketEvent) => void)[]>();

  constructor(
    url: string,
    protocols: string[],
    via: (request: Request) => Promise<Response>,
    readonly log: SocketLog,
  ) {
    log.urls.push(url);
    const request = new Request(url.replace(/^ws/, 'http'), {
      headers: { Upgrade: 'websocket', 'Sec-WebSocket-Protocol': protocols.join(', ') },
    });
    void via(request).then(async (res) => {
      const socket = res.webSocket;
      if (socket === null) {
        await res.text();
        this.#closed(1006, `HTTP ${res.status}`);
        return;
      }
      socket.accept();
      this.#socket = socket;
      socket.addEventListener('message', (event) => this.#emit('message', { data: event.data }));
      socket.addEventListener('close', (event) => this.#closed(event.code, event.reason));
      this.readyState = 1;
      log.open.push(this);
      this.#emit('open', {});
    });
  }
  #emit(type: string, event: PushSocketEvent) {
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }
  #closed(code: number, reason: string) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.log.closes.push(code);
    this.#emit('close', { code, reason });
  }
  addEventListener(type: string, listener: (event: PushSocketEvent) => void) {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }
  send(data: string) {
    this.#socket?.send(data);
  }
  close(code?: number, reason?: string) {
    this.readyState = 3;
    this.#socket?.close(code, reason);
  }
  /** The connection drops (as a network would): the client hears 1006. */
  kill() {
    this.#socket?.close(1000, 'gone');
    this.#closed(1006, '');
  }
}

/** A `WebSocket` class for `createHttpEventStore` whose sockets go through `via`. */
export const socketsVia = (
  via: (request: Request) => Promise<Response>,
  log: SocketLog = { urls: [], closes: [], open: [] },
) =>
  class extends WorkerSocket {
    constructor(url: string, protocols: string[]) {
      super(url, protocols, via, log);
    }
  };
