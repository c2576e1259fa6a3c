import { adapterTests } from './suites/adapter.js';

adapterTests({ label: 'Chromium', factory: () => indexedDB, deleteAfter: true });
