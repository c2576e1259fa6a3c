import type { StreamRef } from '@eventkv/core';
import { PUSH_HEADER, type PushSubscription } from '../object/live-push.js';
import {
  databaseObjectName,
  objectNameFor,
  type Routing,
  toStreamId,
} from '../routing/object-names.js';
import { forwardedUpgrade } from './forwarded-upgrade.js';
import type { EventStoreObjectNamespace } from './object-caller.js';

/** Where a Worker hands the live push sockets it authenticated (`pushSockets`). */
export interface PushSockets {
  /**
   * Forwards a WebSocket upgrade to the object that holds `subscription`'s events: the
   * stream's object (under `'database'` routing, its database's), or for the log the
   * database's object (the feed, under `'stream'` routing). The answer is the object's
   * `101` with the socket, or a `400` saying why it refused.
   */
  open(subscription: PushSubscription, request: Request): Promise<Response>;
}

/**
 * The push sockets of the objects of `namespace` under `routing`, for a Worker that serves
 * `GET .../live` (the subscription comes from the verified token and the URL, never from the
 * client's headers: the object trusts it).
 * @example
 * const answer = await pushSockets(env.EVENT_STORE, 'stream').open(
 *   { kind: 'stream', ref, from: 1, expiresAt: principal.expiresAt },
 *   request,
 * );
 */
export const pushSockets = (
  namespace: EventStoreObjectNamespace,
  routing: Routing,
): PushSockets => ({
  open: (subscription, request) => {
    const name =
      subscription.kind === 'stream'
        ? objectNameFor(subscription.ref as StreamRef, routing)
        : databaseObjectName(subscription.database);
    const forwarded = {
      ...subscription,
      ...(subscription.kind === 'stream' ? { ref: toStreamId(subscription.ref) } : {}),
    };
    const stub = namespace.get(namespace.idFromName(name));
    return stub.fetch(forwardedUpgrade(request, PUSH_HEADER, forwarded));
  },
});
