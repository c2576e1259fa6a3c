import {
  InvalidSessionError,
  NotOpenError,
  SessionExpiredError,
  type StreamId,
  StreamLockedError,
} from './errors.js';
import { kvGet } from './io.js';
import type { KvCheck } from './kv/types.js';
import { log } from './logger.js';
import type { Context } from './options.js';
import { asLease, type LeaseRecord } from './records.js';

/**
 * Who may use a stream handle, and the lease condition every write commits with.
 * A session-less handle may write whenever no live session holds the stream; a session
 * may write only while its own lease is in storage (fencing) and not expired.
 */
export interface Guard {
  /**
   * Throws when the handle may not be used. Returns a promise only when it must look at
   * storage first (a session past the deadline it knows of, which another handle of the
   * same session may have renewed).
   */
  assertUsable(): Promise<void> | undefined;
  leaseCheck(leaseKey: string, lease: LeaseRecord | undefined, now: number): KvCheck;
}

export const optimisticGuard = (stream: StreamId): Guard => ({
  assertUsable: () => undefined,
  leaseCheck(key, lease, now) {
    if (lease && lease.expiresAt > now) throw new StreamLockedError(stream, lease.expiresAt);
    return lease ? { key, equals: lease } : { key, absent: true };
  },
});

export interface SessionState {
  readonly sessionId: string;
  expiresAt: number;
  closed: boolean;
  /** The expiry was logged (once per session, however many calls it rejects). */
  expiryLogged?: boolean;
}

/**
 * The guard of a session. `state` may be shared by several handles of the session (see
 * `sessionState`); a renewal made through any handle, in this store or another one over
 * the same storage, is seen by all: the deadline is re-read from the lease in storage
 * before a session is declared expired, and every lease read adopts the stored deadline.
 */
export const sessionGuard = (
  ctx: Context,
  stream: StreamId,
  state: SessionState,
  leaseKey: string,
): Guard => {
  const expired = (now: number): void => {
    if (now >= state.expiresAt) {
      if (!state.expiryLogged) {
        state.expiryLogged = true;
        log(ctx.logger, 'warn', 'session.expired', 'session expired', {
          ...stream,
          sessionId: state.sessionId,
          expiredAt: state.expiresAt,
        });
      }
      throw new SessionExpiredError(stream, state.sessionId, state.expiresAt);
    }
  };
  const adopt = (lease: LeaseRecord | undefined): void => {
    if (lease?.sessionId === state.sessionId) state.expiresAt = lease.expiresAt;
  };
  const recheck = async (): Promise<void> => {
    const [raw] = await kvGet(ctx, [leaseKey]);
    adopt(asLease(leaseKey, raw));
    if (state.closed) throw new NotOpenError(stream, state.sessionId);
    expired(ctx.clock.now());
  };
  return {
    assertUsable() {
      if (state.closed) throw new NotOpenError(stream, state.sessionId);
      return ctx.clock.now() >= state.expiresAt ? recheck() : undefined;
    },
    leaseCheck(key, lease, now) {
      if (!lease || lease.sessionId !== state.sessionId) {
        throw new InvalidSessionError(stream, state.sessionId, lease?.sessionId);
      }
      adopt(lease);
      // Time passes between assertUsable() and the read the write is planned from: a
      // session that ran out meanwhile must not write, even if nobody took its lease yet.
      expired(now);
      return { key, equals: lease };
    },
  };
};

/** Most sessions one store keeps shared state for; the oldest is forgotten past it. */
const MAX_SHARED_SESSIONS = 1024;

/**
 * The state every handle of one session in this store shares (so `expiresAt`, `closed`
 * and renewals agree between the handle that opened it and those that resumed it).
 */
export const sessionState = (
  ctx: Context,
  leaseKey: string,
  sessionId: string,
  expiresAt: number,
): SessionState => {
  const key = `${leaseKey}\u0000${sessionId}`;
  const known = ctx.sessions.get(key);
  if (known && !known.closed) {
    known.expiresAt = expiresAt;
    return known;
  }
  const state: SessionState = { sessionId, expiresAt, closed: false };
  ctx.sessions.set(key, state);
  if (ctx.sessions.size > MAX_SHARED_SESSIONS) {
    ctx.sessions.delete(ctx.sessions.keys().next().value as string);
  }
  return state;
};

/** Forgets a closed session's shared state. */
export const forgetSession = (ctx: Context, leaseKey: string, sessionId: string): void => {
  ctx.sessions.delete(`${leaseKey}\u0000${sessionId}`);
};
