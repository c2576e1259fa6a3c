import { InvalidArgumentError, type Unsubscribe } from '@eventkv/core';
import { parseInteger } from './params.js';

/**
 * The longest a read may wait for news (`wait` on `GET .../events` and `GET .../log`):
 * clients wait again, and a request stays well inside what proxies and the platform let
 * an idle response take.
 */
export const MAX_WAIT_MS = 25_000;

/** The `wait` query parameter: milliseconds from 0 to `MAX_WAIT_MS`, or absent. */
export const parseWait = (raw: string | undefined): number | undefined => {
  const ms = parseInteger('wait', raw);
  if (ms !== undefined && ms > MAX_WAIT_MS) {
    throw new InvalidArgumentError('wait', `must be at most ${MAX_WAIT_MS} milliseconds`);
  }
  return ms;
};

/**
 * Waits until a subscription delivers anything, `ms` pass, the request is aborted, or the
 * subscription reports an error (the read then answers what there is, and the client
 * waits again). Built on the store's own live tails (`stream.subscribe`,
 * `store.subscribeLog`), so a wait is served however the store learns of changes: the
 * Durable Object store long-polls its objects, a local store follows its change feed. What
 * was delivered is dropped: the route reads its page afterwards, with its usual limits.
 */
export const firstDelivery = (
  subscribe: (listener: () => void, onError: (error: unknown) => void) => Unsubscribe,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<void> =>
  new Promise<void>((resolve) => {
    let stop: Unsubscribe | undefined;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      stop?.();
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
    stop = subscribe(done, done);
    if (settled) stop();
  });
