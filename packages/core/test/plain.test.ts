import { runConformanceSuite } from '../src/conformance/index.js';
import { createMemoryKv } from '../src/index.js';
import { createPlainKv } from '../src/testing/index.js';

// An atomic backend that keeps no index keys: core emulates them (kv/emulated-indexes.ts).
runConformanceSuite({
  name: 'plain (index keys emulated by core)',
  createKv: () => createPlainKv(createMemoryKv()),
  capabilities: createPlainKv(createMemoryKv()).capabilities,
});
