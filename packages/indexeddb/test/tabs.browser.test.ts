import { tabTests } from './suites/tabs.js';

tabTests({ label: 'Chromium', factory: () => indexedDB, deleteAfter: true });
