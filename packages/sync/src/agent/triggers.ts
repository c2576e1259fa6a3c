import { backoffDelay, resolveRetryPolicy } from '@eventkv/core';
import type { BackoffPolicy, NetworkWatch, Timers } from '../live.js';
import type { VisibilityWatch } from './environment.js';

export interface RunResult {
  readonly pushed: number;
  readonly pulled: number;
}

export interface SchedulerOptions {
  /** One sync run. */
  readonly run: () => Promise<RunResult>;
  readonly timers: Timers;
  readonly random: () => number;
  readonly network: NetworkWatch;
  /** Triggers closer together than this make one run. */
  readonly debounceMs: number;
  /** A run this often while online; 0: never. */
  readonly intervalMs: number;
  /** After a failed run, the next one comes after this backoff (unless triggered before). */
  readonly retry: BackoffPolicy;
  /** Hears each run as it starts and ends. */
  readonly onRunning: (running: boolean) => void;
}

/** When the leader syncs: triggers coalesced, one run at a time, retries, a period. */
export interface Scheduler {
  /** A run soon: triggers within `debounceMs` of each other make one; its outcome. */
  soon(): Promise<RunResult>;
  /** A run that starts now or, if one is under way, right after it; its outcome. */
  now(): Promise<RunResult>;
  /** Starts (or stops) the period and the retries: only a leader runs by itself. */
  setActive(active: boolean): void;
  /** The run under way, if any, settled. */
  idle(): Promise<void>;
  stop(): void;
}

export const createScheduler = (options: SchedulerOptions): Scheduler => {
  const { timers, random, network, debounceMs, intervalMs } = options;
  const policy = resolveRetryPolicy(
    { baseDelayMs: 2000, maxDelayMs: 300_000, ...options.retry },
    'options.retry',
  );
  let active = false;
  let stopped = false;
  let failures = 0;
  let current: Promise<RunResult> | undefined;
  let queued: Promise<RunResult> | undefined;
  const handles = {
    debounce: undefined as unknown,
    retry: undefined as unknown,
    period: undefined as unknown,
  };
  const clear = (key: keyof typeof handles) => {
    if (handles[key] !== undefined) timers.clearTimeout(handles[key]);
    handles[key] = undefined;
  };

  const execute = async (): Promise<RunResult> => {
    clear('retry');
    options.onRunning(true);
    try {
      const result = await options.run();
      failures = 0;
      return result;
    } catch (error) {
      failures++;
      // The outbox keeps everything: a later run resumes. While offline, `online` triggers it.
      if (active && !stopped && network.online()) {
        handles.retry = timers.setTimeout(
          () => {
            handles.retry = undefined;
            soon();
          },
          backoffDelay(policy, failures, random),
        );
      }
      throw error;
    } finally {
      options.onRunning(false);
    }
  };

  const now = (): Promise<RunResult> => {
    if (current === undefined) {
      current = execute().finally(() => {
        current = undefined;
      });
      return current;
    }
    // A run under way may have missed what was just appended: one more after it.
    queued ??= current
      .catch(() => {})
      .then(() => {
        queued = undefined;
        return now();
      });
    return queued;
  };

  let next: Promise<RunResult> | undefined;
  let abandon = () => {};
  const soon = (): Promise<RunResult> => {
    if (next !== undefined) return next;
    if (stopped) return Promise.reject(new Error('the sync scheduler is stopped'));
    next = new Promise<RunResult>((resolve, reject) => {
      abandon = () => reject(new Error('the sync scheduler is stopped'));
      handles.debounce = timers.setTimeout(() => {
        handles.debounce = undefined;
        next = undefined;
        now().then(resolve, reject);
      }, debounceMs);
    });
    // Failures are recorded in the store's status and heard through its events: whoever
    // only triggers a run need not handle them.
    next.catch(() => {});
    return next;
  };

  const period = () => {
    clear('period');
    if (!active || stopped || intervalMs <= 0) return;
    handles.period = timers.setTimeout(() => {
      handles.period = undefined;
      if (network.online()) void soon();
      period();
    }, intervalMs);
  };

  return {
    soon,
    now,
    setActive(value) {
      active = value;
      if (!value) clear('retry');
      period();
    },
    async idle() {
      await (queued ?? current)?.catch(() => {});
    },
    stop() {
      stopped = true;
      active = false;
      for (const key of Object.keys(handles) as (keyof typeof handles)[]) clear(key);
      next = undefined;
      abandon();
    },
  };
};

export interface TriggerHandlers {
  readonly online: () => void;
  readonly offline: () => void;
  /** The page was shown again. */
  readonly visible: () => void;
}

/** Listens for `online`, `offline` and `visibilitychange`; returns the removal. */
export const watchTriggers = (
  network: NetworkWatch,
  visibility: VisibilityWatch | undefined,
  handlers: TriggerHandlers,
): (() => void) => {
  const onVisibility = () => {
    if (visibility?.visible()) handlers.visible();
  };
  network.events?.addEventListener('online', handlers.online);
  network.events?.addEventListener('offline', handlers.offline);
  visibility?.events.addEventListener('visibilitychange', onVisibility);
  return () => {
    network.events?.removeEventListener('online', handlers.online);
    network.events?.removeEventListener('offline', handlers.offline);
    visibility?.events.removeEventListener('visibilitychange', onVisibility);
  };
};
