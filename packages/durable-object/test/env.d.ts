import type { TestStoreObject } from './worker.js';

declare global {
  namespace Cloudflare {
    interface Env {
      STORE: DurableObjectNamespace<TestStoreObject>;
      KV_HOST: DurableObjectNamespace;
    }
  }
}
