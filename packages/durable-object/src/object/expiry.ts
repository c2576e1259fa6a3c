import { PUSH_CLOSE_TOKEN_EXPIRED } from '@eventkv/core';
import { LIVE_CLOSE_TOKEN_EXPIRED } from '@eventkv/sync/edge';
import { isPushState } from './live-push.js';

/**
 * Closing an object's sockets (push and live sync) when their token expires, idle or not.
 *
 * Every socket's attachment carries its token's `expiresAt`. A timer would not survive
 * hibernation, so the object's alarm fires at the earliest expiry (`armBy`, when a socket
 * is accepted), and the alarm closes what has expired and arms itself for the next one
 * (`closeExpired`). Sends and acks still check the expiry themselves, so an expired token
 * never gets another event whenever the alarm runs.
 *
 * The alarm is shared with a stream object's delivery to its feed (`feed-delivery.ts`),
 * which sets it outright (`setAlarm`, one storage call on an append's path) at its safety
 * net (5 s after an append) or its backoff (at most 60 s), but never past the earliest
 * expiry of the object's sockets (`earliestExpiry`, taken when it arms). Sockets only ever
 * move the alarm earlier (`armBy`), so they never delay a delivery, and a delivery never
 * delays a close; an alarm that comes early for one of them is only an early retry or a
 * round that closes nothing.
 */

/** When a socket's token expires (ms since epoch), if its attachment says. */
const expiryOf = (attachment: unknown): number | undefined => {
  const at = (attachment as { expiresAt?: unknown } | null)?.expiresAt;
  return typeof at === 'number' ? at : undefined;
};

/**
 * Arms the object's alarm to fire at `at` at the latest: an alarm armed earlier is kept.
 * Storage calls hold the object's input gate, so no other event of the object sets the
 * alarm between the read and the write.
 */
export const armBy = async (storage: DurableObjectStorage, at: number): Promise<void> => {
  const armed = await storage.getAlarm();
  if (armed === null || at < armed) await storage.setAlarm(at);
};

/** The earliest token expiry (ms since epoch) among the object's sockets, if any has one. */
export const earliestExpiry = (ctx: DurableObjectState): number | undefined => {
  let earliest: number | undefined;
  for (const socket of ctx.getWebSockets()) {
    const at = expiryOf(socket.deserializeAttachment());
    if (at !== undefined && (earliest === undefined || at < earliest)) earliest = at;
  }
  return earliest;
};

/**
 * Closes every socket of the object whose token has expired by `now` (push sockets with
 * `PUSH_CLOSE_TOKEN_EXPIRED`, live sync sockets with `LIVE_CLOSE_TOKEN_EXPIRED`; both
 * 4001); answers the earliest expiry of the others, when there is one.
 */
export const closeExpired = (ctx: DurableObjectState, now: number): number | undefined => {
  let next: number | undefined;
  for (const socket of ctx.getWebSockets()) {
    const attachment = socket.deserializeAttachment() as unknown;
    const at = expiryOf(attachment);
    if (at === undefined) continue;
    if (at > now) {
      next = next === undefined ? at : Math.min(next, at);
      continue;
    }
    try {
      socket.close(
        isPushState(attachment) ? PUSH_CLOSE_TOKEN_EXPIRED : LIVE_CLOSE_TOKEN_EXPIRED,
        'token expired',
      );
    } catch {
      // Already closing.
    }
  }
  return next;
};
