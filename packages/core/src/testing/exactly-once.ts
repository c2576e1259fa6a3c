import type { AppendResult, EventStore, RecordedEvent, StreamRef } from '../index.js';

/**
 * The exactly-once check of a remote store under injected faults: a run makes appends
 * through a faulty store, reads back what landed through a clean one, and every
 * acknowledged append must be stored once, where its acknowledgement says; a failed one
 * at most once, whole. The HTTP client and the Durable Object client are checked with it.
 */

/** One append of a run: `count` events to the run's `stream`-th ref. */
export interface AppendAttempt {
  readonly stream: number;
  readonly count: number;
  /** With `expectedVersion` (read just before), or without. */
  readonly expected: boolean;
  /** With message ids of the caller's, or ids the client makes. */
  readonly ownIds: boolean;
}

/** The events of a run: each says which run, which attempt and which of its events it is. */
export type TaggedEvent = { type: 'Appended'; data: { run: number; op: number; i: number } };

/** Makes the run's appends, all at once; their outcomes in order. */
export const attemptAppends = (
  store: EventStore<TaggedEvent>,
  refs: readonly StreamRef[],
  attempts: readonly AppendAttempt[],
  run: number,
  /** Unique to the run: the prefix of the caller's message ids. */
  idPrefix: string,
): Promise<PromiseSettledResult<AppendResult>[]> =>
  Promise.allSettled(
    attempts.map(async (o, k): Promise<AppendResult> => {
      const stream = store.stream(refs[o.stream] as StreamRef);
      const events = Array.from({ length: o.count }, (_, i) => ({
        type: 'Appended' as const,
        data: { run, op: k, i },
        ...(o.ownIds ? { metadata: { messageId: `${idPrefix}-${k}-${i}` } } : {}),
      }));
      const options = o.expected ? { expectedVersion: await stream.version() } : {};
      return stream.append(events, options);
    }),
  );

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * What is wrong with a run (empty: nothing): `added[s]` are the events of stream `s` after
 * its version `before[s]`, read through a clean store once the run is over.
 */
export const exactlyOnceProblems = (run: {
  readonly run: number;
  readonly attempts: readonly AppendAttempt[];
  readonly outcomes: readonly PromiseSettledResult<AppendResult>[];
  readonly before: readonly number[];
  readonly added: readonly (readonly RecordedEvent<TaggedEvent>[])[];
}): string[] => {
  const problems: string[] = [];
  run.added.forEach((events, s) => {
    const before = run.before[s] ?? 0;
    // Contiguous after what was there, and only this run's events.
    if (
      !same(
        events.map((e) => e.version),
        range(before + 1, events.length),
      )
    ) {
      problems.push(`stream ${s}: versions after ${before} are not contiguous`);
    }
    if (!events.every((e) => e.data.run === run.run)) {
      problems.push(`stream ${s}: holds events of another run`);
    }
  });
  run.attempts.forEach((o, k) => {
    const stored = (run.added[o.stream] ?? []).filter((e) => e.data.op === k);
    const outcome = run.outcomes[k];
    if (outcome?.status === 'fulfilled') {
      const { firstVersion, version } = outcome.value;
      if (version - firstVersion + 1 !== o.count) {
        problems.push(
          `append ${k}: acknowledged ${version - firstVersion + 1} of ${o.count} events`,
        );
      }
      if (
        !same(
          stored.map((e) => e.version),
          range(firstVersion, o.count),
        )
      ) {
        problems.push(`append ${k}: not stored once at versions ${firstVersion}-${version}`);
      }
      if (
        !same(
          stored.map((e) => e.data.i),
          range(0, o.count),
        )
      ) {
        problems.push(`append ${k}: its events are not stored in order`);
      }
    } else {
      // A final failure left its events at most once: none, or all in one run.
      const first = stored[0]?.version ?? 0;
      if (
        (stored.length !== 0 && stored.length !== o.count) ||
        !same(
          stored.map((e) => e.version),
          range(first, stored.length),
        )
      ) {
        problems.push(`append ${k}: failed, and left ${stored.length} of ${o.count} events`);
      }
    }
  });
  return problems;
};

/** What is wrong with a whole stream after every run: gaps, or a message id twice. */
export const streamProblems = (events: readonly RecordedEvent[]): string[] => {
  const problems: string[] = [];
  if (
    !same(
      events.map((e) => e.version),
      range(1, events.length),
    )
  ) {
    problems.push('versions are not 1, 2, 3...');
  }
  const ids = events.map((e) => e.metadata.messageId);
  if (new Set(ids).size !== ids.length) problems.push('a message id is stored twice');
  return problems;
};
