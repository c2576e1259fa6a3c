import { env } from 'cloudflare:workers';
import type { AppendResult } from '@eventkv/core';
import { seededRandom as seeded } from '@eventkv/core/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createDurableObjectEventStore, type EventStoreObjectNamespace } from '../src/index.js';

/**
 * Appends through a namespace whose calls fail at random: before they reach the object,
 * or after it ran them (the answer lost), as the platform reports a dropped call
 * (`retryable`), or refused as overloaded (not retried). Whatever the client acknowledged
 * must be stored exactly once, where the acknowledgement says.
 */

type Event = { type: 'Appended'; data: { run: number; op: number; i: number } };

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
          const outcomes = await Promise.allSettled(
            ops.map(async (o, k): Promise<AppendResult> => {
              const stream = store.stream(refs[o.stream]!);
              const events = Array.from({ length: o.count }, (_, i) => ({
                type: 'Appended' as const,
                data: { run, op: k, i },
                ...(o.ownIds ? { metadata: { messageId: `${suite}-${run}-${k}-${i}` } } : {}),
              }));
              const options = o.expected ? { expectedVersion: await stream.version() } : {};
              return stream.append(events, options);
            }),
          );
          const added = await Promise.all(
            refs.map((ref, s) => clean.stream(ref).read({ from: before[s]! + 1 })),
          );
          added.forEach((events, s) => {
            // Contiguous after what was there, and only this run's events.
            expect(events.map((e) => e.version)).toEqual(events.map((_, i) => before[s]! + i + 1));
            expect(events.every((e) => e.data.run === run)).toBe(true);
          });
          ops.forEach((o, k) => {
            const stored = added[o.stream]!.filter((e) => e.data.op === k);
            const outcome = outcomes[k]!;
            if (outcome.status === 'fulfilled') {
              total.acked++;
              if (outcome.value.deduplicated) total.deduplicated++;
              const { firstVersion, version } = outcome.value;
              expect(version - firstVersion + 1).toBe(o.count);
              expect(stored.map((e) => e.version)).toEqual(
                Array.from({ length: o.count }, (_, i) => firstVersion + i),
              );
              expect(stored.map((e) => e.data.i)).toEqual(
                Array.from({ length: o.count }, (_, i) => i),
              );
            } else {
              // A final failure left its events at most once: none, or all in one run.
              expect([0, o.count]).toContain(stored.length);
              const first = stored[0]?.version ?? 0;
              expect(stored.map((e) => e.version)).toEqual(stored.map((_, i) => first + i));
            }
          });
        },
      ),
      { numRuns: 300 },
    );
    for (const ref of refs) {
      const events = await clean.stream(ref).read();
      expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
      const ids = events.map((e) => e.metadata.messageId);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(total.after).toBeGreaterThan(0);
    expect(total.before).toBeGreaterThan(0);
    expect(total.deduplicated).toBeGreaterThan(0);
  }, 60_000);
});
