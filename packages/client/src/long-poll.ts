import type { TailTrigger } from '@eventkv/core';
import type { Transport } from './transport.js';

/**
 * How long one long-poll of a tail asks the Worker to wait (its `wait` parameter), under
 * the Worker's bound (25 s) and under the idle timeouts of common proxies.
 */
export const LONG_POLL_MS = 20_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A tail's trigger over HTTP: a read that waits (`wait=LONG_POLL_MS`) for the first event
 * after the cursor, then the tail reads its batch. The request is aborted when the tail
 * stops; a failed one is retried by the transport when that is safe, then reported to the
 * tail, which backs off (`followCursor`). The stream's `subscribe` and the store's
 * `subscribeLog` use it; a push transport (a WebSocket) can stand in front of it and fall
 * back on it.
 */
const longPoll = (
  transport: Transport,
  path: string,
  query: (after: number) => Record<string, number>,
): TailTrigger => ({
  sleep,
  wait: (after, signal) =>
    transport.request({
      method: 'GET',
      path,
      query: { ...query(after), limit: 1, wait: LONG_POLL_MS },
      signal: signal as AbortSignal,
    }),
});

/** Long-polls `GET {streamPath}/events?from=…&wait=…` (the stream's next version). */
export const streamLongPoll = (transport: Transport, streamPath: string): TailTrigger =>
  longPoll(transport, `${streamPath}/events`, (after) => ({ from: after + 1 }));

/** Long-polls `GET {databasePath}/log?after=…&wait=…` (the log's next position). */
export const logLongPoll = (transport: Transport, databasePath: string): TailTrigger =>
  longPoll(transport, `${databasePath}/log`, (after) => ({ after }));
