import type { StreamRef, TailTrigger } from '@eventkv/core';
import { MAX_FEED_WAIT_MS } from '../object/calls.js';
import { MAX_WAIT_MS } from '../object/waits.js';
import { databaseObjectName, streamObjectName } from '../routing/object-names.js';
import type { RpcResult } from '../rpc/result.js';
import {
  callObject,
  type EventStoreObjectNamespace,
  type EventStoreObjectRpc,
} from './object-caller.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How long one wait of a remote tail lasts. A Workers RPC call cannot be cancelled: a tail
 * stopped mid-wait leaves its call to end on the object at the timeout (its answer is
 * ignored), so a wait is kept well under a request's lifetime.
 */
export const TAIL_WAIT_MS = Math.min(10_000, MAX_WAIT_MS);

const waitOn = (
  namespace: EventStoreObjectNamespace,
  objectName: string,
  operation: 'waitStream' | 'waitLog',
  invoke: (rpc: EventStoreObjectRpc) => Promise<RpcResult<unknown>>,
): Promise<number> =>
  // Not retried here: a failed wait is reported to the tail, which backs off and waits again.
  callObject<number>(namespace, objectName, operation, invoke);

/**
 * The trigger of a remote stream's tail: a long-poll on the stream's object (`waitStream`),
 * which answers as soon as the stream is past the last version delivered.
 */
export const streamTrigger = (
  namespace: EventStoreObjectNamespace,
  objectName: string,
  ref: { readonly database: string; readonly type: string; readonly id: string },
): TailTrigger => ({
  sleep,
  wait: (after) =>
    waitOn(namespace, objectName, 'waitStream', (rpc) =>
      rpc.waitStream({ ref: { ...ref }, after, timeoutMs: TAIL_WAIT_MS }),
    ),
});

/**
 * The trigger of a remote log tail: a long-poll on the object that serves the database's
 * log (`waitLog`: the database's object, the feed under `'stream'` routing).
 */
export const logTrigger = (
  namespace: EventStoreObjectNamespace,
  objectName: string,
  database: string,
): TailTrigger => ({
  sleep,
  wait: (after) =>
    waitOn(namespace, objectName, 'waitLog', (rpc) =>
      rpc.waitLog({ database, after, timeoutMs: TAIL_WAIT_MS }),
    ),
});

/** The log's position now: a wait that does not wait. */
export const logPositionOf = (
  namespace: EventStoreObjectNamespace,
  objectName: string,
  database: string,
): Promise<number> =>
  waitOn(namespace, objectName, 'waitLog', (rpc) =>
    rpc.waitLog({ database, after: Number.MAX_SAFE_INTEGER, timeoutMs: 0 }),
  );

/**
 * How long `feedHolds` waits on the feed before it asks the streams it still waits for
 * whether they have the versions named. The feed normally holds an append within
 * milliseconds of its acknowledgement; a version a stream does not have after this long is
 * one it never had (its data was reset while a client remembered it, or the caller named
 * an append it never made), and waiting the rest of `MAX_FEED_WAIT_MS` for it would only
 * make every read of that caller answer 503 until it forgot.
 */
export const FEED_CHECK_MS = 1000;

/**
 * Waits until the database's feed holds each stream at least at its version, at most
 * `timeoutMs` (default and bound `MAX_FEED_WAIT_MS`): `true` once it does, `false` when the
 * time ran out. Read-your-writes under `'stream'` routing for a caller whose appends went
 * through another store (another Worker isolate, say): a database-wide read that first
 * waits for them sees them. A version its stream does not have is not waited for: after
 * `FEED_CHECK_MS` the streams still waited for are asked for their versions (one call to
 * each stream's object), and those behind the version named are let go.
 * @example
 * if (!(await feedHolds(env.EVENT_STORE, 'acme', [{ ref: { type: 'Account', id: '42' }, version: 3 }])))
 *   throw new Error('the feed is behind; retry');
 */
export const feedHolds = async (
  namespace: EventStoreObjectNamespace,
  database: string,
  streams: readonly { readonly ref: StreamRef; readonly version: number }[],
  timeoutMs: number = MAX_FEED_WAIT_MS,
): Promise<boolean> => {
  const named = streams.map(({ ref, version }) => ({ ref: { ...ref, database }, version }));
  const wait = (waited: typeof named, ms: number) =>
    callObject<boolean>(namespace, databaseObjectName(database), 'feedWait', (stub) =>
      stub.feedWait({ streams: waited, timeoutMs: ms }),
    );
  const deadline = Date.now() + timeoutMs;
  if (await wait(named, Math.min(timeoutMs, FEED_CHECK_MS))) return true;
  if (Date.now() >= deadline) return false;
  const existing = await Promise.all(
    named.map(async (stream) => {
      try {
        const version = await callObject<number>(
          namespace,
          streamObjectName(stream.ref),
          'version',
          (stub) => stub.version({ ref: stream.ref }),
          // Not retried: a failed check only keeps the stream waited for, where retries
          // would hold the read past its deadline.
          false,
        );
        return version >= stream.version;
      } catch {
        // A stream that cannot answer may have the version: it is waited for.
        return true;
      }
    }),
  );
  const left = named.filter((_, i) => existing[i]);
  return left.length === 0 || wait(left, Math.max(0, deadline - Date.now()));
};
