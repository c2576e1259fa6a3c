import { DurableObject } from 'cloudflare:workers';
import { EventStoreObject, type EventStoreObjectOptions } from '../src/index.js';

/** The package's object as a user deploys it, with one setting of its own. */
export class TestStoreObject extends EventStoreObject {
  protected override storeOptions(): EventStoreObjectOptions {
    return { sessionTimeoutMs: 60_000 };
  }
}

/** A bare object: the adapter tests run their code inside it, on its storage. */
export class KvHostObject extends DurableObject {}

export default {
  fetch: () => new Response('eventkv durable-object test worker'),
};
