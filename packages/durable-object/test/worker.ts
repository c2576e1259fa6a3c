import { DurableObject } from 'cloudflare:workers';
import { StorageError } from '@eventkv/core';
import {
  EventStoreObject,
  type EventStoreObjectNamespace,
  type EventStoreObjectOptions,
  type FeedDeliverCall,
  type FeedDeliverResult,
} from '../src/index.js';
import { settle } from '../src/rpc/result.js';

/** The package's object as a user deploys it, with one setting of its own. */
export class TestStoreObject extends EventStoreObject<{ STORE: EventStoreObjectNamespace }> {
  protected override storeOptions(): EventStoreObjectOptions {
    return { sessionTimeoutMs: 60_000 };
  }

  protected override feedNamespace(): EventStoreObjectNamespace {
    return this.env.STORE;
  }
}

/**
 * The package's object whose feed a test can take down (`down`, set in the instance with
 * `runInDurableObject`): deliveries to it fail as a feed that is unreachable or throwing.
 * A test may lower its bound on live sync sockets the same way (`liveSockets`).
 */
export class FlakyFeedObject extends EventStoreObject<{ FLAKY: EventStoreObjectNamespace }> {
  down = false;
  liveSockets: number | undefined;

  protected override maxLiveSockets(): number {
    return this.liveSockets ?? super.maxLiveSockets();
  }

  protected override feedNamespace(): EventStoreObjectNamespace {
    return this.env.FLAKY;
  }

  override feedDeliver(call: FeedDeliverCall) {
    if (!this.down) return super.feedDeliver(call);
    return settle<FeedDeliverResult>('feedDeliver', async () => {
      throw new StorageError('feedDeliver', { detail: 'the feed is down' });
    });
  }
}

/** A bare object: the adapter tests run their code inside it, on its storage. */
export class KvHostObject extends DurableObject {}

export default {
  fetch: () => new Response('eventkv durable-object test worker'),
};
