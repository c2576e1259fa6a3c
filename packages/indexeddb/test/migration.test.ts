import { IDBFactory } from 'fake-indexeddb';
import { migrationTests } from './suites/migration.js';

migrationTests(
  { label: 'fake-indexeddb', factory: () => new IDBFactory(), deleteAfter: false },
  { bigEvents: 10_000 },
);
