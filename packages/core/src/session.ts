// `preserve` keeps this in the emitted .d.ts, so consumers get AsyncDisposable without a lib setting.
/// <reference lib="esnext.disposable" preserve="true" />
import {
  InvalidSessionError,
  isKvConditionError,
  NotOpenError,
  OpenFailedError,
  SessionExpiredError,
  type StreamId,
} from './errors.js';
import { forgetSession, type SessionState, sessionGuard, sessionState } from './guard.js';
import { kvCommit, kvGet } from './io.js';
import { log } from './logger.js';
import type { Context } from './options.js';
import { asLease, type LeaseRecord } from './records.js';
import { type EventStream, StreamHandle } from './stream.js';
import type { EventShape } from './types.js';
import { readLeaseCheck } from './write.js';

/**
 * An exclusive session on a stream: while it is open, only it can write (its lease is
 * checked by every write, its own included). Close it, or use `await using`.
 */
export interface Session<E extends EventShape = EventShape>
  extends EventStream<E>,
    AsyncDisposable {
  readonly sessionId: string;
  /** When the lease runs out (ms since epoch) unless renewed. */
  readonly expiresAt: number;
  readonly closed: boolean;
  /** Extends the lease by the session timeout from now. */
  renew(): Promise<void>;
  /** Releases the lease. Later operations fail with `NotOpenError`. Idempotent. */
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly sessionTimeoutMs?: number;
  readonly openTimeoutMs?: number;
}

const asyncDispose: typeof Symbol.asyncDispose =
  Symbol.asyncDispose ?? (Symbol.for('Symbol.asyncDispose') as typeof Symbol.asyncDispose);

class SessionHandle<E extends EventShape> extends StreamHandle<E> implements Session<E> {
  readonly #state: SessionState;
  readonly #timeoutMs: number;
  #released = false;

  constructor(
    ctx: Context,
    ref: StreamId,
    state: SessionState,
    timeoutMs: number,
    leaseKey: string,
  ) {
    super(ctx, ref, sessionGuard(ctx, ref, state, leaseKey));
    this.#state = state;
    this.#timeoutMs = timeoutMs;
  }

  get sessionId(): string {
    return this.#state.sessionId;
  }
  get expiresAt(): number {
    return this.#state.expiresAt;
  }
  get closed(): boolean {
    return this.#state.closed;
  }

  async renew(): Promise<void> {
    await this.guard.assertUsable();
    const check = await readLeaseCheck(this.ctx, this.guard, this.keys.lease);
    const lease: LeaseRecord = {
      sessionId: this.#state.sessionId,
      expiresAt: this.ctx.clock.now() + this.#timeoutMs,
      timeoutMs: this.#timeoutMs,
    };
    try {
      await kvCommit(this.ctx, {
        checks: [check],
        puts: [{ key: this.keys.lease, value: lease }],
      });
    } catch (error) {
      // The commit may have applied before it failed: learn the lease's real expiry, so
      // this handle and storage agree (every handle adopts it from the lease anyway).
      try {
        const [raw] = await kvGet(this.ctx, [this.keys.lease]);
        const stored = asLease(this.keys.lease, raw);
        if (stored?.sessionId === this.#state.sessionId) this.#state.expiresAt = stored.expiresAt;
      } catch {
        // Storage is failing: the next lease read will tell.
      }
      throw error;
    }
    this.#state.expiresAt = lease.expiresAt;
    log(this.ctx.logger, 'debug', 'session.renewed', 'session renewed', {
      ...this.ref,
      sessionId: this.sessionId,
      expiresAt: lease.expiresAt,
    });
  }

  async close(): Promise<void> {
    if (this.#released) return;
    // Closed at once, whatever storage says: the session is not to be used any more. The
    // release itself is retried by a later close() if storage failed this time (until
    // then the lease simply runs out at its expiry).
    this.#state.closed = true;
    const [raw] = await kvGet(this.ctx, [this.keys.lease]);
    const lease = asLease(this.keys.lease, raw);
    if (lease?.sessionId === this.#state.sessionId) {
      try {
        await kvCommit(this.ctx, {
          checks: [{ key: this.keys.lease, equals: lease }],
          deletes: [this.keys.lease],
        });
      } catch (error) {
        // Lost a race with a new holder after our lease expired: nothing of ours to release.
        if (!isKvConditionError(error)) throw error;
      }
    }
    this.#released = true;
    forgetSession(this.ctx, this.keys.lease, this.#state.sessionId);
    log(this.ctx.logger, 'info', 'store.closed', 'session closed', {
      ...this.ref,
      sessionId: this.sessionId,
    });
  }

  [asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Takes the stream's lease, retrying until `openTimeoutMs` while a live session holds it. */
export const openSession = async <E extends EventShape>(
  ctx: Context,
  ref: StreamId,
  sessionTimeoutMs: number,
  openTimeoutMs: number,
): Promise<Session<E>> => {
  const key = ctx.slots.slot(ref.database, ref.type, ref.id).keys.lease;
  const sessionId = ctx.generateId();
  const deadline = ctx.clock.now() + openTimeoutMs;
  for (;;) {
    const [raw] = await kvGet(ctx, [key]);
    const held = asLease(key, raw);
    const now = ctx.clock.now();
    if (held && held.expiresAt > now) {
      if (now >= deadline) {
        log(ctx.logger, 'error', 'open.failed', 'open failed: stream locked', {
          ...ref,
          openTimeoutMs,
          lockedUntil: held.expiresAt,
          holder: held.sessionId,
        });
        throw new OpenFailedError(ref, openTimeoutMs, held.expiresAt, held.sessionId);
      }
      await ctx.clock.sleep(
        Math.min(ctx.openRetryIntervalMs, deadline - now, held.expiresAt - now),
      );
      continue;
    }
    const lease: LeaseRecord = {
      sessionId,
      expiresAt: now + sessionTimeoutMs,
      timeoutMs: sessionTimeoutMs,
    };
    try {
      await kvCommit(ctx, {
        checks: [held ? { key, equals: held } : { key, absent: true }],
        puts: [{ key, value: lease }],
      });
    } catch (error) {
      if (isKvConditionError(error)) continue; // another opener won this round
      throw error;
    }
    log(ctx.logger, 'info', 'store.opened', 'session opened', {
      ...ref,
      sessionId,
      expiresAt: lease.expiresAt,
      ...(held ? { tookOverExpiredSession: held.sessionId } : {}),
    });
    return new SessionHandle<E>(
      ctx,
      ref,
      sessionState(ctx, key, sessionId, lease.expiresAt),
      sessionTimeoutMs,
      key,
    );
  }
};

/**
 * Re-attaches to a live session by its id, from the lease in storage: for a server that
 * handles each request of a session afresh, or a process that restarted.
 */
export const resumeSession = async <E extends EventShape>(
  ctx: Context,
  ref: StreamId,
  sessionId: string,
): Promise<Session<E>> => {
  const key = ctx.slots.slot(ref.database, ref.type, ref.id).keys.lease;
  const [raw] = await kvGet(ctx, [key]);
  const held = asLease(key, raw);
  if (!held) throw new NotOpenError(ref, sessionId);
  if (held.sessionId !== sessionId) throw new InvalidSessionError(ref, sessionId, held.sessionId);
  if (held.expiresAt <= ctx.clock.now()) {
    throw new SessionExpiredError(ref, sessionId, held.expiresAt);
  }
  return new SessionHandle<E>(
    ctx,
    ref,
    sessionState(ctx, key, sessionId, held.expiresAt),
    held.timeoutMs ?? ctx.sessionTimeoutMs,
    key,
  );
};
