import { migrationTests } from './suites/migration.js';

migrationTests(
  { label: 'Chromium', factory: () => indexedDB, deleteAfter: true },
  { bigEvents: 10_000 },
);
