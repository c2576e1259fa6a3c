import type { ConformanceOptions } from './harness.js';

export const snapshotTests = (_options: ConformanceOptions): void => {};
