export type { AppendAttempt, TaggedEvent } from './exactly-once.js';
export { attemptAppends, exactlyOnceProblems, streamProblems } from './exactly-once.js';
export type { Fault, FaultyKv, KvOperation } from './faulty-kv.js';
export { createFaultyKv, InjectedFault } from './faulty-kv.js';
export type { ManualClock } from './manual-clock.js';
export { createManualClock } from './manual-clock.js';
export { createNonAtomicKv } from './non-atomic-kv.js';
export { createPlainKv } from './plain-kv.js';
export { seededRandom } from './seeded-random.js';
