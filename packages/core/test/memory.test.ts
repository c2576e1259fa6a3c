import { runConformanceSuite } from '../src/conformance/index.js';
import { createMemoryKv } from '../src/index.js';

runConformanceSuite({
  name: 'memory',
  createKv: () => createMemoryKv(),
  capabilities: createMemoryKv().capabilities,
});
