import { failureTests } from './suites/failures.js';

// Every 7th write position keeps the run short on real storage; Node covers every one.
failureTests({ label: 'Chromium', factory: () => indexedDB, deleteAfter: true }, { abortStep: 7 });
