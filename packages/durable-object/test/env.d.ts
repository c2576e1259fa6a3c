import type { FlakyFeedObject, TestStoreObject } from './worker.js';

declare global {
  namespace Cloudflare {
    interface Env {
      STORE: DurableObjectNamespace<TestStoreObject>;
      KV_HOST: DurableObjectNamespace;
      FLAKY: DurableObjectNamespace<FlakyFeedObject>;
    }
  }
}
