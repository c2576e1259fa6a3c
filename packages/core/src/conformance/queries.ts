import type { ConformanceOptions } from './harness.js';

export const queryTests = (_options: ConformanceOptions): void => {};
