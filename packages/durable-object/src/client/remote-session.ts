import { type EventShape, NotOpenError, remoteSessionError, type Session } from '@eventkv/core';
import type { SessionInfo } from '../object/calls.js';
import type { RpcResult } from '../rpc/result.js';
import type { EventStoreObjectRpc } from './object-caller.js';
import { callObject } from './object-caller.js';
import { RemoteStream, type RemoteTarget } from './remote-stream.js';

const asyncDispose: typeof Symbol.asyncDispose =
  Symbol.asyncDispose ?? (Symbol.for('Symbol.asyncDispose') as typeof Symbol.asyncDispose);

/**
 * A session held in a Durable Object: every call carries its `sessionId`, and the object
 * checks it against the lease in storage.
 *
 * `subscribe` is the stream's (`RemoteStream.subscribe`): it reads session-less, so the
 * tail outlives the session, and it long-polls the object (`waitStream`) rather than open
 * a push socket. The wait is answered by the object as soon as the stream moves, so it
 * does not poll; a push socket would save one read per change but would be a WebSocket the
 * calling isolate must hold open (a Worker's request ends, an RPC call does not need to
 * outlive it), with no token expiry to close it by, and it would take one of the object's
 * `MAX_PUSH_SOCKETS` from the clients outside the Worker, for whom push exists
 * (`@eventkv/client`). Tested in `test/waits.test.ts` ("a session's subscribe long-polls too").
 */
export class RemoteSession<E extends EventShape> extends RemoteStream<E> implements Session<E> {
  readonly sessionId: string;
  #expiresAt: number;
  #closed = false;
  #released = false;

  constructor(target: RemoteTarget, info: SessionInfo) {
    super(target);
    this.sessionId = info.sessionId;
    this.#expiresAt = info.expiresAt;
  }

  get expiresAt(): number {
    return this.#expiresAt;
  }

  get closed(): boolean {
    return this.#closed;
  }

  protected override get session(): string {
    return this.sessionId;
  }

  protected override assertUsable(): void {
    if (this.#closed) throw new NotOpenError(this.ref, this.sessionId);
  }

  protected override async call<T>(
    operation: string,
    invoke: (
      stub: EventStoreObjectRpc,
      call: { ref: RemoteTarget['ref']; sessionId?: string },
    ) => Promise<RpcResult<unknown>>,
  ): Promise<T> {
    try {
      return await super.call<T>(operation, invoke);
    } catch (error) {
      throw remoteSessionError(error, this, Date.now());
    }
  }

  async renew(): Promise<void> {
    const info = await this.call<SessionInfo>('renew', (stub, call) =>
      stub.renew({ ref: call.ref, sessionId: this.sessionId }),
    );
    this.#expiresAt = info.expiresAt;
  }

  async close(): Promise<void> {
    if (this.#released) return;
    // Closed at once, whatever the object says: the session is not to be used any more. A
    // failed release is retried by a later close() (until then the lease runs out by itself).
    this.#closed = true;
    await callObject<void>(this.target.namespace, this.target.objectName, 'close', (stub) =>
      stub.close({ ref: this.ref, sessionId: this.sessionId }),
    );
    this.#released = true;
  }

  [asyncDispose](): Promise<void> {
    return this.close();
  }
}
