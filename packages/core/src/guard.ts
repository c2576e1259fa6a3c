import {
  InvalidSessionError,
  NotOpenError,
  SessionExpiredError,
  type StreamId,
  StreamLockedError,
} from './errors.js';
import type { KvCheck } from './kv/types.js';
import { log } from './logger.js';
import type { Context } from './options.js';
import type { LeaseRecord } from './records.js';

/**
 * Who may use a stream handle, and the lease condition every write commits with.
 * A session-less handle may write whenever no live session holds the stream; a session
 * may write only while its own lease is in storage (fencing) and not expired.
 */
export interface Guard {
  assertUsable(): void;
  leaseCheck(leaseKey: string, lease: LeaseRecord | undefined, now: number): KvCheck;
}

export const optimisticGuard = (stream: StreamId): Guard => ({
  assertUsable() {},
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

export const sessionGuard = (ctx: Context, stream: StreamId, state: SessionState): Guard => {
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
  return {
    assertUsable() {
      if (state.closed) throw new NotOpenError(stream, state.sessionId);
      expired(ctx.clock.now());
    },
    leaseCheck(key, lease, now) {
      if (!lease || lease.sessionId !== state.sessionId) {
        throw new InvalidSessionError(stream, state.sessionId, lease?.sessionId);
      }
      // Time passes between assertUsable() and the read the write is planned from: a
      // session that ran out meanwhile must not write, even if nobody took its lease yet.
      expired(now);
      return { key, equals: lease };
    },
  };
};
