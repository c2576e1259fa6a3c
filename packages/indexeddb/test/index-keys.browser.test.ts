import { indexKeyTests } from './suites/index-keys.js';

indexKeyTests({ label: 'Chromium', factory: () => indexedDB, deleteAfter: true });
