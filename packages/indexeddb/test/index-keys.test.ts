import { IDBFactory } from 'fake-indexeddb';
import { indexKeyTests } from './suites/index-keys.js';

indexKeyTests({ label: 'fake-indexeddb', factory: () => new IDBFactory(), deleteAfter: false });
