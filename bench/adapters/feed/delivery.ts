/**
 * One delivery the feed applied, as the feed bench's Worker notes it: the stream
 * (`type/id`), the first version sent, the version the feed held after, the events sent,
 * and when (workerd's `Date.now()`, epoch ms).
 */
export type Delivery = [string, number, number, number, number];
