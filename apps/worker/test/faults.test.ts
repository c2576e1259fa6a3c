import { env } from 'cloudflare:workers';
import { createHttpEventStore, type FetchLike } from '@eventkv/client';
import type { AppendResult } from '@eventkv/core';
import { seededRandom as seeded } from '@eventkv/core/testing';
import { createDurableObjectEventStore } from '@eventkv/durable-object';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type Env, routingOf } from '../src/index';
import { freshDatabase, ORIGIN, tokenFor } from './helpers';

/**
 * The HTTP client against the Worker in workerd, through a `fetch` that fails at random:
 * the request lost before it reaches the Worker, the response lost after the Worker
 * answered, or a 503 or 429 with `Retry-After` from something in between. Whatever the
 * client acknowledged must be stored exactly once, where the acknowledgement says.
 */

// The Worker as `src/index.ts` builds it, called directly: each call through the test
// runner's binding to the main module gets slower than the one before, which would
// measure the runner instead of the client.
const worker = createApp({
  storeFor: (_database, bindings) =>
    createDurableObjectEventStore(bindings.EVENT_STORE, { routing: routingOf(bindings) }),
});
const send = (request: Request): Promise<Response> =>
  Promise.resolve(worker.fetch(request, env as unknown as Env));

type Event = { type: 'Appended'; data: { run: number; op: number; i: number } };

const total = {
  runs: 0,
  appends: 0,
  acked: 0,
  deduplicated: 0,
  requests: 0,
  lostBefore: 0,
  lostAfter: 0,
  unavailable: 0,
  rateLimited: 0,
};

const faultyFetch =
  (random: () => number): FetchLike =>
  async (request) => {
    total.requests++;
    const roll = random();
    if (roll < 0.2) {
      total.lostBefore++;
      throw new TypeError('fetch failed: the connection was lost before the request was sent');
    }
    if (roll < 0.35) {
      const response = await send(request);
      await response.arrayBuffer();
      total.lostAfter++;
      throw new TypeError('fetch failed: the connection was reset before the response');
    }
    if (roll < 0.42) {
      total.unavailable++;
      return new Response('<html>503 Service Unavailable</html>', {
        status: 503,
        headers: { 'Retry-After': '1' },
      });
    }
    if (roll < 0.48) {
      total.rateLimited++;
      return Response.json(
        { error: { code: 'RATE_LIMITED', message: 'slow down' } },
        { status: 429, headers: { 'Retry-After': '2' } },
      );
    }
    return send(request);
  };

const op = fc.record({
  stream: fc.nat(2),
  count: fc.integer({ min: 1, max: 3 }),
  expected: fc.boolean(),
  ownIds: fc.boolean(),
});

describe('the HTTP client over a network that drops requests and responses', () => {
  afterAll(() => {
    console.log(
      `http fault runs: ${total.runs} runs, ${total.appends} appends (${total.acked} acknowledged, ${total.deduplicated} of them deduplicated), ${total.requests} requests: ${total.lostBefore} lost before the Worker, ${total.lostAfter} answered but the response lost, ${total.unavailable} 503 and ${total.rateLimited} 429 with Retry-After`,
    );
  });

  it('every acknowledged append is stored exactly once, where its acknowledgement says', async () => {
    // Three streams in a database, shared by ten runs (a new object per run would slow
    // workerd down run after run; ten runs stay under the per-database rate limit). Each
    // run checks the events it added; each database's streams are checked whole at the end.
    const databases: { db: string; token: string }[] = [];
    const suite = crypto.randomUUID();
    const refs = [0, 1, 2].map((i) => ({ type: 'Faulty', id: `${suite}-${i}` }));
    const cleanStore = (token: string) =>
      createHttpEventStore<Event>(ORIGIN, { token, fetch: (request) => send(request) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 10 }),
        fc.integer(),
        async (ops, seed) => {
          const run = ++total.runs;
          total.appends += ops.length;
          if ((run - 1) % 10 === 0) {
            const db = freshDatabase();
            databases.push({ db, token: await tokenFor(db) });
          }
          const { token } = databases.at(-1)!;
          const clean = cleanStore(token);
          const before = await Promise.all(refs.map((ref) => clean.stream(ref).version()));
          const store = createHttpEventStore<Event>(ORIGIN, {
            token,
            fetch: faultyFetch(seeded(seed)),
            retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 5 },
          });
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
      { numRuns: 200 },
    );
    for (const { token } of databases) {
      for (const ref of refs) {
        const events = await cleanStore(token).stream(ref).read();
        expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
        const ids = events.map((e) => e.metadata.messageId);
        expect(new Set(ids).size).toBe(ids.length);
      }
    }
    expect(total.lostAfter).toBeGreaterThan(0);
    expect(total.deduplicated).toBeGreaterThan(0);
  }, 60_000);
});
