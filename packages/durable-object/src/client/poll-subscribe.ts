import {
  type EventShape,
  InvalidArgumentError,
  type ReadOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Unsubscribe,
} from '@eventkv/core';

interface Reader<E extends EventShape> {
  read(options?: ReadOptions): Promise<RecordedEvent<E>[]>;
  version(): Promise<number>;
}

const PAGE = 500;

const positiveInteger = (field: string, value: unknown): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(field, `must be a positive integer (got ${String(value)})`);
  }
  return value;
};

/**
 * A live tail over RPC, where no change feed reaches the caller: reads after the last
 * delivered version every `pollIntervalMs`, so each event is delivered once, in order.
 */
export const pollSubscribe = <E extends EventShape>(
  reader: Reader<E>,
  listener: (events: RecordedEvent<E>[]) => void,
  options: SubscribeOptions = {},
): Unsubscribe => {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object');
  }
  if (typeof listener !== 'function')
    throw new InvalidArgumentError('listener', 'must be a function');
  let next = options.from === undefined ? undefined : positiveInteger('options.from', options.from);
  const interval =
    options.pollIntervalMs === undefined
      ? 1000
      : positiveInteger('options.pollIntervalMs', options.pollIntervalMs);
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const report = (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // An error handler that throws has nowhere left to report to.
    }
  };

  const poll = async (): Promise<void> => {
    let full = false;
    try {
      next ??= (await reader.version()) + 1;
      const events = await reader.read({ from: next, limit: PAGE });
      if (stopped) return;
      if (events.length > 0) {
        // Advance first: a listener that throws has still been given these events.
        next = events[events.length - 1]!.version + 1;
        full = events.length === PAGE;
        try {
          listener(events);
        } catch (error) {
          report(error);
        }
      }
    } catch (error) {
      report(error);
    }
    if (!stopped) timer = setTimeout(() => void poll(), full ? 0 : interval);
  };

  void poll();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
};
