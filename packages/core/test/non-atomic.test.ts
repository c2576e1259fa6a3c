import { runConformanceSuite } from '../src/conformance/index.js';
import { createMemoryKv } from '../src/index.js';
import { createNonAtomicKv } from '../src/testing/index.js';

runConformanceSuite({
  name: 'non-atomic (sequential writes with rollback)',
  createKv: () => createNonAtomicKv(createMemoryKv()),
  capabilities: createNonAtomicKv(createMemoryKv()).capabilities,
});
