import { IDBFactory } from 'fake-indexeddb';
import { failureTests } from './suites/failures.js';

failureTests(
  { label: 'fake-indexeddb', factory: () => new IDBFactory(), deleteAfter: false },
  { abortStep: 1 },
);
