import {
  type EventShape,
  type EventStream,
  InvalidArgumentError,
  pageEventWeight,
  type ReadOptions,
  readPage,
} from '@eventkv/core';
import type { PageLimits, ReadPage } from './calls.js';

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;

/**
 * A page of `read` cut to the caller's own limits (`ReadCall.page`): the Worker asks for
 * the answer of `GET .../events` (500 events, 4 MiB) and passes it on as it comes. The
 * events are weighed once, here, as the Worker weighs its pages (`pageEventWeight`),
 * instead of twice (by `approximateSize` for the RPC result, then again in the Worker
 * for its answer): a read of a short stream spent about a tenth of its CPU weighing.
 * The caller's limits are bounded by the object's own (`own`, what one RPC result may
 * carry); the two weighings differ by a few bytes an event, far inside the 32 MiB an RPC
 * result may hold against the 8 MiB of a page.
 */
export const readCallerPage = <E extends EventShape>(
  stream: Pick<EventStream<E>, 'read' | 'version'>,
  options: ReadOptions | undefined,
  page: PageLimits,
  own: PageLimits,
): Promise<ReadPage<E>> => {
  if (typeof page !== 'object' || page === null) {
    throw new InvalidArgumentError('page', 'must be { maxEvents, maxBytes }');
  }
  if (!isCount(page.maxEvents)) {
    throw new InvalidArgumentError('page.maxEvents', 'must be a positive integer');
  }
  if (!isCount(page.maxBytes)) {
    throw new InvalidArgumentError('page.maxBytes', 'must be a positive integer');
  }
  const limits: PageLimits = {
    maxEvents: Math.min(page.maxEvents, own.maxEvents),
    maxBytes: Math.min(page.maxBytes, own.maxBytes),
  };
  return readPage(stream, options ?? {}, limits, pageEventWeight(limits.maxBytes));
};
