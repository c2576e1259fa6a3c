import type { StreamRef, TailTrigger } from '@eventkv/core';
import { MAX_FEED_WAIT_MS } from '../object/calls.js';
import { MAX_WAIT_MS } from '../object/waits.js';
import { databaseObjectName } from '../routing/object-names.js';
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
 * Waits until the database's feed holds each stream at least at its version, at most
 * `timeoutMs` (default and bound `MAX_FEED_WAIT_MS`): `true` once it does, `false` when the
 * time ran out. Read-your-writes under `'stream'` routing for a caller whose appends went
 * through another store (another Worker isolate, say): a database-wide read that first
 * waits for them sees them.
 * @example
 * if (!(await feedHolds(env.EVENT_STORE, 'acme', [{ ref: { type: 'Account', id: '42' }, version: 3 }])))
 *   throw new Error('the feed is behind; retry');
 */
export const feedHolds = (
  namespace: EventStoreObjectNamespace,
  database: string,
  streams: readonly { readonly ref: StreamRef; readonly version: number }[],
  timeoutMs: number = MAX_FEED_WAIT_MS,
): Promise<boolean> =>
  callObject<boolean>(namespace, databaseObjectName(database), 'feedWait', (stub) =>
    stub.feedWait({
      streams: streams.map(({ ref, version }) => ({ ref: { ...ref, database }, version })),
      timeoutMs,
    }),
  );
