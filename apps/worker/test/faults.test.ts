import { env } from 'cloudflare:workers';
import { createHttpEventStore, type FetchLike } from '@eventkv/client';
import {
  attemptAppends,
  exactlyOnceProblems,
  seededRandom as seeded,
  streamProblems,
  type TaggedEvent,
} from '@eventkv/core/testing';
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

type Event = TaggedEvent;

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
      { numRuns: 200 },
    );
    for (const { token } of databases) {
      for (const ref of refs) {
        const events = await cleanStore(token).stream(ref).read();
        expect(streamProblems(events)).toEqual([]);
      }
    }
    expect(total.lostAfter).toBeGreaterThan(0);
    expect(total.deduplicated).toBeGreaterThan(0);
  }, 60_000);
});
