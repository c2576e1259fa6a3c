/** An accepted socket's close, and a wait for what its messages have collected. */
export interface Accepted {
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Settles once `count()` has reached `n`. */
  received(n: number): Promise<void>;
}

/**
 * Accepts the socket of an upgrade's answer (the tests' end of a live route: the push
 * sockets, the sync sockets): each message goes to `onMessage`, and `received(n)` waits until
 * `count()` (what the messages have collected) reaches `n`. Without a socket (the upgrade
 * refused) nothing closes and nothing arrives.
 */
export const acceptSocket = (
  socket: WebSocket | null,
  count: () => number,
  onMessage: (data: string, socket: WebSocket) => void,
): Accepted => {
  const waiters: { n: number; resolve: () => void }[] = [];
  let closed: Promise<{ code: number; reason: string }> = new Promise(() => {});
  if (socket) {
    socket.accept();
    closed = new Promise((resolve) =>
      socket.addEventListener('close', (event) =>
        resolve({ code: event.code, reason: event.reason }),
      ),
    );
    socket.addEventListener('message', (event) => {
      onMessage(String(event.data), socket);
      for (const waiter of waiters.filter((w) => count() >= w.n)) waiter.resolve();
    });
  }
  return {
    closed,
    received: (n) =>
      count() >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
  };
};
