/**
 * The HTTP bench's client: Node's own HTTP client with keep-alive sockets, one per concurrent
 * loop. Not `fetch`: on 2 cores the client shares the machine with workerd, and undici's
 * `fetch` cost Node 285-1,010 µs of CPU per request to the empty Worker where `node:http`
 * cost 64-113 µs (3 runs of 2 s each, 16 clients), so with `fetch` the client, not the
 * Worker, set the pace (2,000 requests/s against 4,500-7,600).
 */
import { Agent, request as httpRequest } from 'node:http';

export interface Answer {
  readonly status: number;
  readonly text: string;
}

export interface Client {
  send(
    url: URL,
    method: 'GET' | 'POST',
    headers: Readonly<Record<string, string>>,
    body?: string,
  ): Promise<Answer>;
  destroy(): void;
}

export const httpClient = (concurrency: number): Client => {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const send: Client['send'] = (url, method, headers, body) =>
    new Promise((resolve, reject) => {
      const req = httpRequest(url, { method, headers, agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed while idle (between samples) fails as it is
        // reused, before the request reached the Worker: sent again on a new socket.
        if (req.reusedSocket && error.code === 'ECONNRESET') {
          send(url, method, headers, body).then(resolve, reject);
        } else {
          reject(error);
        }
      });
      req.end(body);
    });
  return { send, destroy: () => agent.destroy() };
};
