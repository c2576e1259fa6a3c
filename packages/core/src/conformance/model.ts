import type { ConformanceOptions } from './harness.js';

export const modelTests = (_options: ConformanceOptions): void => {};
