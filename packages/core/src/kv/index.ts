/**
 * `@eventkv/core/kv`: for authors of storage adapters and their tests. The contract's
 * types, the helpers adapters share (check evaluation, range resolution), and reads and
 * writes through any adapter exactly as the store makes them (`kvGet`, `kvScan`,
 * `kvCommit`, `readThen`, `writeThen`: index keys emulated where the adapter keeps none), and
 * `charBytes`, how V8 stores a string's characters, for adapters that bound an entry's size,
 * and which keys hold the append state (`isAppendStateKey`, `appendStateIn`), for adapters
 * that keep those records apart.
 */
export { charBytes } from '../char-bytes.js';
export { KvConditionError } from '../errors.js';
export { appendStateIn, isAppendStateKey } from '../keys.js';
export { kvCommit, kvGet, kvScan, readThen, writeThen } from './access.js';
export { emulatedIndexKey } from './emulated-indexes.js';
export { checkHolds, failedChecks, kvValuesEqual } from './equal.js';
export { prefixEnd, resolveRange } from './range.js';
// Every type of the contract (the main entry exports the same).
export type * from './types.js';
