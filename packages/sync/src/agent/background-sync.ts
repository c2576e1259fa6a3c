import type { BackgroundSyncLike } from './environment.js';

/**
 * Background Sync, where the browser has it: when a run fails for lack of network while
 * events are pending, a tag is registered with the service worker's registration, and the
 * browser fires `sync` at the service worker once the device is back online, even if
 * every tab of the app is closed by then. Only an enhancement: without it (most browsers
 * but Chromium's), the next tab to open syncs. Registered once per spell of failures.
 */
export interface BackgroundSync {
  /** Registers the tag unless done since the last success; whether it is registered. */
  register(): Promise<boolean>;
  /** A run succeeded: the next failure registers again. */
  reset(): void;
}

export const createBackgroundSync = (
  lookup: (() => Promise<BackgroundSyncLike | undefined>) | undefined,
  tag: string | false,
): BackgroundSync => {
  let registered: Promise<boolean> | undefined;
  return {
    register() {
      if (lookup === undefined || tag === false) return Promise.resolve(false);
      registered ??= (async () => {
        try {
          const sync = await lookup();
          if (sync === undefined) return false;
          await sync.register(tag);
          return true;
        } catch {
          // Refused (no permission, no active worker): the app syncs when a tab is open.
          return false;
        }
      })();
      return registered;
    },
    reset() {
      registered = undefined;
    },
  };
};

/** A failure that says the edge could not be reached: offline, or the request never got an answer. */
export const isNetworkFailure = (error: unknown, online: boolean): boolean => {
  if (!online) return true;
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  // The HTTP remote's NETWORK_FAILURE; a bare fetch rejects with a TypeError.
  return code === 'NETWORK_FAILURE' || name === 'TypeError';
};
