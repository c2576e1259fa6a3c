import type { StreamId } from '@eventkv/core';

/**
 * The replica's own records, beside its copy of the edge's streams in the same storage
 * (keys under `#sync/`, which the store's own layout never uses):
 *
 *   #sync/meta                    { clientId, epoch, seq, cursor? }: who this replica is
 *   #sync/inflight                the push being sent: re-sent as it is after a crash
 *   #sync/s/{stream}              a stream with pending events: { ref, next, pending, since?,
 *                                 conflict?, deferredUntil? }
 *   #sync/o/{stream}/{n}          a pending append (outbox entry n of the stream)
 *   #sync/status                  { lastSuccessAt?, lastError? }
 */

const part = (name: string): string => encodeURIComponent(name);

export const META_KEY = '#sync/meta';
export const INFLIGHT_KEY = '#sync/inflight';
export const STATUS_KEY = '#sync/status';
export const STATE_PREFIX = '#sync/s/';
export const OUTBOX_PREFIX = '#sync/o/';

export const streamPart = (ref: StreamId): string =>
  `${part(ref.database)}/${part(ref.type)}/${part(ref.id)}`;

export const stateKey = (ref: StreamId): string => `${STATE_PREFIX}${streamPart(ref)}`;

export const outboxPrefix = (ref: StreamId): string => `${OUTBOX_PREFIX}${streamPart(ref)}/`;

export const outboxKey = (ref: StreamId, n: number): string =>
  `${outboxPrefix(ref)}${n.toString().padStart(16, '0')}`;
