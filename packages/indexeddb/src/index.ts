export type { IndexedDbKv } from './indexeddb-kv.js';
export { createIndexedDbKv } from './indexeddb-kv.js';
export type { IndexedDbKvOptions, IndexedDbUpgrade } from './options.js';
export type { EventKvSchema } from './schema.js';
