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
 * Waits until a subscription delivers anything, `ms` pass or the request is aborted.
 * Rejects with the first error the subscription reports (an object refusing more waits,
 * a failed read): the request answers it, and the client backs off instead of asking
 * again at once. Built on the store's own live tails (`stream.subscribe`,
 * `store.subscribeLog`), so a wait is served however the store learns of changes: the
 * Durable Object store long-polls its objects, a local store follows its change feed. What
 * was delivered is dropped: the route reads its page afterwards, with its usual limits.
 */
export const firstDelivery = (
  subscribe: (listener: () => void, onError: (error: unknown) => void) => Unsubscribe,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    let stop: Unsubscribe | undefined;
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      stop?.();
      if (error === undefined) resolve();
      else reject(error);
    };
    const done = () => settle();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
    stop = subscribe(done, (error) => settle(error ?? new Error('the wait failed')));
    if (settled) stop();
  });
