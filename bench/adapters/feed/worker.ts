/**
 * The feed bench's Worker: apps/worker as it is (every `/v1/...` request goes to its app
 * unchanged), with an `EventStoreObject` that is apps/worker's plus two things the bench
 * needs and the product does not have:
 *
 * - the feed (a database's object) notes when it applied each delivery: one `Date.now()`
 *   and one small array per `feedDeliver`, kept in memory until `benchDeliveries` takes
 *   them. That is how the bench times the feed's lag without asking the feed anything while
 *   the load runs (a poll of the log or a `feedWait` per sampled append would add work to
 *   the very object being measured);
 * - with the var `BENCH_FEED=off` stream objects deliver nothing (no feed): the same appends
 *   as the product's, without the feed's cost, a floor for it.
 *
 * And two routes of its own, outside `/v1/` (local only; nothing checks a token):
 *
 * - `GET /bench/deliveries?db=<database>`: what the database's feed applied since the last
 *   call (and forgets it), as `[[stream, first, held, count, at], ...]`;
 * - `POST /bench/flood?db=<database>&batch=<B>&calls=<K>`, body: one recorded event as a
 *   template: the Worker sends the feed K deliveries of B events each, one after the other,
 *   for a new stream of its own; the feed's own throughput, without stream objects or HTTP
 *   per delivery. With B = 0 each delivery is an empty batch, which the feed answers after
 *   reading the stream's head: the call's own cost, without applying anything.
 */
import {
  databaseObjectName,
  type EventStoreObjectNamespace,
  type FeedDeliverCall,
  type FeedDeliverResult,
  type RpcResult,
} from '@eventkv/durable-object';
import type { Env } from '../../../apps/worker/src/env.js';
import app, { EventStoreObject as WorkerStoreObject } from '../../../apps/worker/src/index.js';
import type { Delivery } from './delivery.js';

interface BenchEnv extends Env {
  /** `off`: stream objects deliver nothing (the no-feed floor). */
  readonly BENCH_FEED?: string;
}

export class EventStoreObject extends WorkerStoreObject {
  #deliveries: Delivery[] = [];

  protected override feedNamespace(): EventStoreObjectNamespace {
    // undefined means no delivery, as in the package's class (apps/worker's narrows the type).
    return (
      (this.env as BenchEnv).BENCH_FEED === 'off' ? undefined : super.feedNamespace()
    ) as EventStoreObjectNamespace;
  }

  override async feedDeliver(call: FeedDeliverCall): Promise<RpcResult<FeedDeliverResult>> {
    const result = await super.feedDeliver(call);
    if (result.ok) {
      // workerd's clock stands still while JavaScript runs and moves on I/O, so this is
      // when the delivery's turn began, at most the apply's own time (well under 1 ms)
      // early. Whole milliseconds.
      this.#deliveries.push([
        `${call.ref.type}/${call.ref.id}`,
        call.events[0]?.version ?? 0,
        result.value.version,
        call.events.length,
        Date.now(),
      ]);
    }
    return result;
  }

  /** The deliveries applied since the last call. */
  benchDeliveries(): Delivery[] {
    const taken = this.#deliveries;
    this.#deliveries = [];
    return taken;
  }
}

/** The feed of `db`, typed with the bench's methods. */
const feedOf = (env: BenchEnv, db: string) =>
  env.EVENT_STORE.get(
    env.EVENT_STORE.idFromName(databaseObjectName(db)),
  ) as unknown as EventStoreObject;

let floods = 0;

const flood = async (env: BenchEnv, params: URLSearchParams, template: unknown) => {
  const db = params.get('db') ?? 'bench';
  const batch = Number(params.get('batch'));
  const calls = Number(params.get('calls'));
  if (!(Number.isInteger(batch) && batch >= 0 && Number.isInteger(calls) && calls >= 1)) {
    return new Response('batch: 0 or more; calls: 1 or more', { status: 400 });
  }
  const base = template as { metadata: Record<string, unknown> };
  const id = `flood-${Date.now().toString(36)}-${++floods}`;
  const ref = { database: db, type: 'Account', id };
  const feed = feedOf(env, db);
  let held = 0;
  for (let call = 0; call < calls; call++) {
    const events = Array.from({ length: batch }, (_, i) => ({
      ...base,
      version: held + 1 + i,
      metadata: {
        ...base.metadata,
        messageId: `${id}-${held + 1 + i}`,
        timestamp: Date.now(),
        aggregateId: id,
        database: db,
      },
    }));
    const result = await feed.feedDeliver({ ref, events } as unknown as FeedDeliverCall);
    if (!result.ok || result.value.version !== held + batch) {
      return Response.json({ error: 'the feed did not take a delivery', result }, { status: 500 });
    }
    held += batch;
  }
  return Response.json({ deliveries: calls, events: calls * batch });
};

export default {
  async fetch(request: Request, env: BenchEnv, ctx: ExecutionContext): Promise<Response> {
    const url = request.url;
    // Everything but the bench's routes goes to the app as it came.
    const path = url.indexOf('/bench/', 8);
    if (path === -1 || url.indexOf('/', 8) !== path) return app.fetch(request, env, ctx);
    const { pathname, searchParams } = new URL(url);
    if (pathname === '/bench/deliveries') {
      return Response.json(await feedOf(env, searchParams.get('db') ?? 'bench').benchDeliveries());
    }
    if (pathname === '/bench/flood' && request.method === 'POST') {
      return flood(env, searchParams, await request.json());
    }
    return new Response('not found', { status: 404 });
  },
};
