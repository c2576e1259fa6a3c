/**
 * The floors of the live bench, one Worker beside the eventkv Worker in the same workerd:
 *
 * - `GET /echo`: a plain WebSocket, accepted by the Worker itself, that sends back every
 *   message it receives (a message into workerd and out again, nothing else);
 * - `GET /hub/socket?hub=<name>`: a WebSocket held by the Durable Object `<name>` with the
 *   hibernation API, as eventkv's live sockets are, and `POST /hub/poke?hub=<name>`: the
 *   object sends one message to each of its sockets and answers (an HTTP request turned
 *   into a message on every socket, with no authentication, no body read, no store).
 */
import { DurableObject } from 'cloudflare:workers';

/** What eventkv sends, so both floors carry the same bytes. */
const POKE = '{"type":"poke"}';

const upgraded = (request: Request): boolean =>
  request.headers.get('Upgrade')?.toLowerCase() === 'websocket';

export class PokeHub extends DurableObject {
  /** Accepts a hibernatable socket and sends one message at once, as eventkv does. */
  override async fetch(request: Request): Promise<Response> {
    if (!upgraded(request)) return new Response('expected a WebSocket', { status: 426 });
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.send(POKE);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Sends one message to every socket it holds; returns how many. */
  poke(): number {
    const sockets = this.ctx.getWebSockets();
    for (const socket of sockets) socket.send(POKE);
    return sockets.length;
  }

  override webSocketMessage(): void {}

  override webSocketClose(socket: WebSocket, code: number, reason: string): void {
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }
}

interface Env {
  readonly HUB: DurableObjectNamespace<PokeHub>;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/echo') {
      if (!upgraded(request)) return new Response('expected a WebSocket', { status: 426 });
      const { 0: client, 1: server } = new WebSocketPair();
      server.accept();
      server.addEventListener('message', (event) => server.send(event.data));
      return new Response(null, { status: 101, webSocket: client });
    }
    const hub = env.HUB.get(env.HUB.idFromName(url.searchParams.get('hub') ?? 'hub'));
    if (url.pathname === '/hub/socket') return hub.fetch(request);
    if (url.pathname === '/hub/poke' && request.method === 'POST') {
      return Response.json(await hub.poke());
    }
    return new Response('not found', { status: 404 });
  },
};
