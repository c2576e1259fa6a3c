import type { LockManagerLike } from './environment.js';

/** A place in the leader election: `release()` gives up the lead, or the wait for it. */
export interface Candidacy {
  release(): void;
}

/**
 * One leader per lock name among the tabs and workers of an origin, through Web Locks: the
 * lock is held until `release()` or until the context goes (a closed tab's locks are freed
 * by the browser), and the next waiting candidate then gets it and `onLead` runs there.
 * Without Web Locks the candidate leads at once: nobody else can be told apart.
 */
export const electLeader = (
  locks: LockManagerLike | undefined,
  name: string,
  onLead: () => void,
): Candidacy => {
  let released = false;
  if (locks === undefined) {
    onLead();
    return {
      release() {
        released = true;
      },
    };
  }
  const waiting = new AbortController();
  let free: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    free = resolve;
  });
  locks
    .request(name, { signal: waiting.signal }, async () => {
      if (released) return;
      onLead();
      await held;
    })
    // Rejected when the wait is abandoned (AbortError): nothing to do.
    .catch(() => {});
  return {
    release() {
      if (released) return;
      released = true;
      waiting.abort();
      free();
    },
  };
};
