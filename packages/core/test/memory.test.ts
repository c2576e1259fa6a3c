import { createMemoryKv } from '../src/index.js';
import { runConformanceSuite } from '../src/conformance/index.js';

runConformanceSuite({
  name: 'memory',
  createKv: () => createMemoryKv(),
  capabilities: createMemoryKv().capabilities,
});
