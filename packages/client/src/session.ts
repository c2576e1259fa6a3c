import {
  type EventShape,
  NotOpenError,
  type OpenOptions,
  remoteSessionError,
  type Session,
  type StreamId,
} from '@eventkv/core';
import { HttpStream, type StreamTarget } from './stream.js';
import type { Transport } from './transport.js';
import { encodeSegment, streamPath } from './wire.js';

export interface SessionInfo {
  readonly sessionId: string;
  readonly expiresAt: number;
}

const asyncDispose: typeof Symbol.asyncDispose =
  Symbol.asyncDispose ?? (Symbol.for('Symbol.asyncDispose') as typeof Symbol.asyncDispose);

/** A session held by the server: every call names it with the `Eventkv-Session` header. */
class HttpSession<E extends EventShape> extends HttpStream<E> implements Session<E> {
  readonly sessionId: string;
  #expiresAt: number;
  #closed = false;
  #released = false;
  readonly #transport: Transport;

  constructor(
    transport: Transport,
    ref: StreamId,
    info: SessionInfo,
    appended?: StreamTarget['appended'],
  ) {
    super({
      transport,
      ref,
      ...(appended === undefined ? {} : { appended }),
      sessionId: () => {
        if (this.#closed) throw new NotOpenError(ref, info.sessionId);
        return info.sessionId;
      },
    });
    this.#transport = transport;
    this.sessionId = info.sessionId;
    this.#expiresAt = info.expiresAt;
  }

  get expiresAt(): number {
    return this.#expiresAt;
  }
  get closed(): boolean {
    return this.#closed;
  }

  protected override async call(spec: Parameters<HttpStream<E>['call']>[0]): Promise<unknown> {
    try {
      return await super.call(spec);
    } catch (error) {
      throw remoteSessionError(error, this, Date.now());
    }
  }

  #sessionPath(): string {
    return `${streamPath(this.ref.database, this.ref.type, this.ref.id)}/sessions/${encodeSegment(this.sessionId)}`;
  }

  async renew(): Promise<void> {
    if (this.#closed) throw new NotOpenError(this.ref, this.sessionId);
    // Renewing twice extends the lease from the later of the two: retried when it fails.
    let info: SessionInfo;
    try {
      info = (await this.#transport.request({
        method: 'POST',
        path: `${this.#sessionPath()}/renew`,
        idempotent: true,
      })) as SessionInfo;
    } catch (error) {
      throw remoteSessionError(error, this, Date.now());
    }
    this.#expiresAt = info.expiresAt;
  }

  async close(): Promise<void> {
    if (this.#released) return;
    // Closed at once, as core's sessions are; a failed release is retried by a later
    // close() (until then the lease runs out at its expiry).
    this.#closed = true;
    try {
      // A repeated release finds nothing to release (NOT_OPEN, below): retried when it fails.
      await this.#transport.request({
        method: 'DELETE',
        path: this.#sessionPath(),
        idempotent: true,
      });
    } catch (error) {
      // Released already, or taken over after it expired: nothing of ours to release.
      const code = (error as { code?: unknown }).code;
      if (code !== 'NOT_OPEN' && code !== 'INVALID_SESSION' && code !== 'SESSION_EXPIRED') {
        throw error;
      }
    }
    this.#released = true;
  }

  [asyncDispose](): Promise<void> {
    return this.close();
  }
}

export const openHttpSession = async <E extends EventShape>(
  transport: Transport,
  ref: StreamId,
  options: OpenOptions,
  appended?: StreamTarget['appended'],
): Promise<Session<E>> => {
  // Not idempotent: a repeated open whose first attempt took the lease would find the
  // stream locked by a session nobody knows. Retried only after a 429 (nothing processed).
  const info = (await transport.request({
    method: 'POST',
    path: `${streamPath(ref.database, ref.type, ref.id)}/sessions`,
    body: options,
  })) as SessionInfo;
  return new HttpSession<E>(transport, ref, info, appended);
};

export const resumeHttpSession = async <E extends EventShape>(
  transport: Transport,
  ref: StreamId,
  sessionId: string,
  appended?: StreamTarget['appended'],
): Promise<Session<E>> => {
  const info = (await transport.request({
    method: 'GET',
    path: `${streamPath(ref.database, ref.type, ref.id)}/sessions/${encodeSegment(sessionId)}`,
  })) as SessionInfo;
  return new HttpSession<E>(transport, ref, info, appended);
};
