import { IDBFactory } from 'fake-indexeddb';
import { upgradeTests } from './suites/upgrades.js';

upgradeTests({ label: 'fake-indexeddb', factory: () => new IDBFactory(), deleteAfter: false });
