import {
  type EventShape,
  InvalidArgumentError,
  type RecordedEvent,
  type SubscribeOptions,
  type Unsubscribe,
} from '@eventkv/core';

interface Reader<E extends EventShape> {
  read(options: { from: number; limit: number }): Promise<RecordedEvent<E>[]>;
  version(): Promise<number>;
}

const PAGE = 500;

const positive = (field: string, value: number | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(field, `must be an integer of at least 1 (got ${value})`);
  }
  return value;
};

/**
 * A live tail over HTTP: HTTP has no change feed, so it polls. Each pass reads after the
 * last delivered version, so every event is delivered once and in order.
 */
export const pollStream = <E extends EventShape>(
  reader: Reader<E>,
  listener: (events: RecordedEvent<E>[]) => void,
  options: SubscribeOptions,
): Unsubscribe => {
  if (typeof listener !== 'function') {
    throw new TypeError('subscribe(listener): listener must be a function');
  }
  let next = options.from === undefined ? undefined : positive('options.from', options.from, 1);
  const interval = positive('options.pollIntervalMs', options.pollIntervalMs, 1000);
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const report = (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // An error handler that throws has nowhere further to report to.
    }
  };

  const pass = async (): Promise<void> => {
    try {
      next ??= (await reader.version()) + 1;
      for (;;) {
        const events = await reader.read({ from: next, limit: PAGE });
        if (stopped || events.length === 0) break;
        next = (events.at(-1) as RecordedEvent<E>).version + 1;
        try {
          listener(events);
        } catch (error) {
          report(error);
        }
        if (events.length < PAGE) break;
      }
    } catch (error) {
      if (!stopped) report(error);
    }
    if (!stopped) timer = setTimeout(() => void pass(), interval);
  };

  void pass();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
};
