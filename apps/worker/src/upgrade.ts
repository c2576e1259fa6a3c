import { InvalidArgumentError, StorageError } from '@eventkv/core';
import type { Context } from 'hono';
import type { ApiEnv } from './context.js';

/**
 * The checks of every WebSocket route (the push sockets of `routes/live.ts`, the sync
 * sockets of `routes/sync.ts`), made before anything is looked up: the request is an
 * upgrade and offers `subprotocol`. Either missing is the client's mistake (400).
 */
export const requireUpgrade = (c: Context<ApiEnv>, subprotocol: string): void => {
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    throw new InvalidArgumentError('Upgrade', 'the live route is a WebSocket (Upgrade: websocket)');
  }
  const offered = (c.req.header('Sec-WebSocket-Protocol') ?? '').split(',');
  if (!offered.some((p) => p.trim() === subprotocol)) {
    throw new InvalidArgumentError(
      'Sec-WebSocket-Protocol',
      `must offer the subprotocol ${subprotocol}`,
    );
  }
};

/**
 * The Worker's answer to an upgrade the object behind it answered: its socket in a response
 * of the Worker's own, so the middleware may add headers (CORS) to it. A `503` (an object
 * already holding its most push sockets) is `STORAGE_FAILURE`, retryable: the client backs
 * off. Any other refusal (anything but 101) is the client's mistake, with the object's reason.
 */
export const upgraded = async (answer: Response): Promise<Response> => {
  if (answer.status === 503) {
    throw new StorageError('live', { detail: (await answer.text()) || 'the object is busy' });
  }
  if (answer.status !== 101) {
    throw new InvalidArgumentError('live', (await answer.text()) || 'the socket was refused');
  }
  return new Response(null, { status: 101, webSocket: answer.webSocket, headers: answer.headers });
};
