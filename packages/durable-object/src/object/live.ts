import type { SyncPrincipal } from '@eventkv/sync/edge';

/**
 * The header a Worker forwards a live sync socket's verified principal in. An object's
 * `fetch` is reachable only through its namespace binding, so only the Worker sets it.
 */
export const LIVE_PRINCIPAL_HEADER = 'X-EventKV-Principal';

/** Who a live socket belongs to, kept with the socket across hibernation. */
export interface LivePrincipal extends SyncPrincipal {
  /** When the socket's token expires (ms since epoch): the object's alarm closes it then (`expiry.ts`). */
  readonly expiresAt: number;
  /** The replica's client id, when it gave one: its own pushes do not poke it. */
  readonly clientId?: string;
}

/**
 * The live sync sockets a database's object holds at most by default (one per replica
 * online): the next is refused with 503, and the replica long-polls until a later try
 * finds room (`packages/sync/src/live.ts`). A poke is one small send per socket, so the
 * bound keeps one change's fan-out bounded; an app with more replicas of one database
 * online raises it (`EventStoreObject.maxLiveSockets`), up to the platform's limit of
 * sockets per object.
 */
export const MAX_LIVE_SOCKETS = 10_000;
