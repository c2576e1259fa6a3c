import { upgradeTests } from './suites/upgrades.js';

upgradeTests({ label: 'Chromium', factory: () => indexedDB, deleteAfter: true });
