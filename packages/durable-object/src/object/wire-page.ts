import { type EventShape, type EventStream, type ReadOptions, storedToWire } from '@eventkv/core';
import { readCallerPage } from './caller-page.js';
import type { PageLimits, WirePage } from './calls.js';

/**
 * The most bytes of events (as `pageEventWeight` weighs them) one `readWire` page holds:
 * the Worker's own page (4 MiB). The text of a page is longer than its weight, up to about
 * six times (a control character weighs a byte and is written `\u0001`), so 4 MiB of
 * events writes at most about 24 MiB, under the 32 MiB a Workers RPC result may carry;
 * the object's own 8 MiB page could not always travel as text.
 */
export const WIRE_PAGE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * A page of the caller's own (`caller-page.ts`, the same cut) answered as the wire JSON
 * text of `{ events, next? }`: the body of the Worker's `GET .../events`, which it sends
 * as it comes. Written here, the events cross RPC as one string instead of a structured
 * clone of every value (written by the object, read by the Worker) that the Worker then
 * writes as JSON itself: about 12% of a 10-event read's CPU in workerd (profiles and an A/B
 * in the bench README's HTTP section).
 * An event that cannot be written as wire JSON is the `CorruptRecordError` naming it, as
 * the Worker reports it for any answer (core's `storedToWire`, one rule for both).
 */
export const readWirePage = async <E extends EventShape>(
  stream: Pick<EventStream<E>, 'read' | 'version'>,
  options: ReadOptions | undefined,
  page: PageLimits,
  own: PageLimits,
): Promise<WirePage> => {
  const cut = await readCallerPage(stream, options, page, {
    maxEvents: own.maxEvents,
    maxBytes: Math.min(own.maxBytes, WIRE_PAGE_MAX_BYTES),
  });
  return { text: storedToWire(cut), events: cut.events.length };
};
