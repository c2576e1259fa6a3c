import type { StorageLike } from './environment.js';

/**
 * Persistent storage for the local database (`navigator.storage.persist()`): without it a
 * browser may evict the origin's data under storage pressure, unsynced events with it.
 * Asked for once, at the first local append (there is data worth keeping, and the user
 * just acted, which is when browsers grant it), and only if not granted already.
 */
export interface Persistence {
  /** Granted (`true`), refused (`false`), or not known (`undefined`: no storage API, not read yet). */
  readonly persisted: boolean | undefined;
  /** Reads whether it is granted, without asking. */
  check(): Promise<boolean | undefined>;
  /** Asks once (later calls give the first answer). */
  request(): Promise<boolean | undefined>;
}

export const createPersistence = (storage: StorageLike | undefined): Persistence => {
  let persisted: boolean | undefined;
  let asked: Promise<boolean | undefined> | undefined;
  const check = async () => {
    if (storage === undefined) return undefined;
    try {
      persisted = await storage.persisted();
    } catch {
      // Unknown stays unknown.
    }
    return persisted;
  };
  return {
    get persisted() {
      return persisted;
    },
    check,
    request() {
      asked ??= (async () => {
        if (storage === undefined) return undefined;
        if (await check()) return persisted;
        try {
          persisted = await storage.persist();
        } catch {
          // Refused by an exception (an opaque origin): as good as no.
          persisted = false;
        }
        return persisted;
      })();
      return asked;
    },
  };
};
