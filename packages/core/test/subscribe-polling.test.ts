import { subscriptionTests } from '../src/conformance/subscriptions.js';
import { createMemoryKv, type Kv } from '../src/index.js';

// A backend without a change feed: subscriptions fall back to polling on the store's clock.
const withoutChangeFeed = (): Kv => {
  const { watch: _watch, ...kv } = createMemoryKv();
  return kv;
};

subscriptionTests({
  name: 'memory without a change feed',
  createKv: withoutChangeFeed,
  capabilities: createMemoryKv().capabilities,
});
