import { env } from 'cloudflare:workers';
import {
  attemptAppends,
  exactlyOnceProblems,
  seededRandom as seeded,
  streamProblems,
  type TaggedEvent,
} from '@eventkv/core/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createDurableObjectEventStore, type EventStoreObjectNamespace } from '../src/index.js';

/**
 * Appends through a namespace whose calls fail at random: before they reach the object,
 * or after it ran them (the answer lost), as the platform reports a dropped call
 * (`retryable`), or refused as overloaded (not retried). Whatever the client acknowledged
 * must be stored exactly once, where the acknowledgement says.
 */

type Event = TaggedEvent;

interface Faults {
  calls: number;
  before: number;
  after: number;
  overloaded: number;
}
const total: Faults & { runs: number; appends: number; acked: number; deduplicated: number } = {
  calls: 0,
  before: 0,
  after: 0,
  overloaded: 0,
  runs: 0,
  appends: 0,
  acked: 0,
  deduplicated: 0,
};

const dropped = (overloaded = false) =>
  Object.assign(
    new Error(overloaded ? 'Durable Object is overloaded.' : 'Network connection lost.'),
    {
      retryable: !overloaded,
      overloaded,
    },
  );

const faultyNamespace = (random: () => number): EventStoreObjectNamespace => ({
  idFromName: (name) => env.STORE.idFromName(name),
  get: (id) => {
    const real = env.STORE.get(id) as unknown as Record<string, (arg: unknown) => Promise<unknown>>;
    return new Proxy(
      {},
      {
        get:
          (_target, method: string) =>
          async (arg: unknown): Promise<unknown> => {
            total.calls++;
            const roll = random();
            if (roll < 0.25) {
              total.before++;
              throw dropped();
            }
            if (roll < 0.45) {
              await real[method]!(arg);
              total.after++;
              throw dropped();
            }
            if (roll < 0.48) {
              total.overloaded++;
              throw dropped(true);
            }
            return real[method]!(arg);
          },
      },
    ) as ReturnType<EventStoreObjectNamespace['get']>;
  },
  retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 4 },
});

const op = fc.record({
  stream: fc.nat(2),
  count: fc.integer({ min: 1, max: 3 }),
  expected: fc.boolean(),
  ownIds: fc.boolean(),
});

describe('appends over calls that fail at random', () => {
  afterAll(() => {
    console.log(
      `durable-object fault runs: ${total.runs} runs, ${total.appends} appends (${total.acked} acknowledged, ${total.deduplicated} of them deduplicated), ${total.calls} calls: ${total.before} failed before the object, ${total.after} lost after it ran, ${total.overloaded} overloaded`,
    );
  });

  it('every acknowledged append is stored exactly once, where its acknowledgement says', async () => {
    const clean = createDurableObjectEventStore<Event>(env.STORE);
    // The same three streams for every run (a new object per run would slow workerd down
    // run after run); each run checks the events it added, and the end the whole streams.
    const suite = crypto.randomUUID();
    const refs = [0, 1, 2].map((i) => ({ type: 'Faulty', id: `${suite}-${i}` }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 12 }),
        fc.integer(),
        async (ops, seed) => {
          const run = ++total.runs;
          total.appends += ops.length;
          const before = await Promise.all(refs.map((ref) => clean.stream(ref).version()));
          const store = createDurableObjectEventStore<Event>(faultyNamespace(seeded(seed)));
          const outcomes = await attemptAppends(store, refs, ops, run, `${suite}-${run}`);
          const added = await Promise.all(
            refs.map((ref, s) => clean.stream(ref).read({ from: before[s]! + 1 })),
          );
          expect(exactlyOnceProblems({ run, attempts: ops, outcomes, before, added })).toEqual([]);
          for (const outcome of outcomes) {
            if (outcome.status !== 'fulfilled') continue;
            total.acked++;
            if (outcome.value.deduplicated) total.deduplicated++;
          }
        },
      ),
      { numRuns: 300 },
    );
    for (const ref of refs) {
      const events = await clean.stream(ref).read();
      expect(streamProblems(events)).toEqual([]);
    }
    expect(total.after).toBeGreaterThan(0);
    expect(total.before).toBeGreaterThan(0);
    expect(total.deduplicated).toBeGreaterThan(0);
  }, 60_000);
});
