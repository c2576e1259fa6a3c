import { IDBFactory } from 'fake-indexeddb';
import { adapterTests } from './suites/adapter.js';

adapterTests({ label: 'fake-indexeddb', factory: () => new IDBFactory(), deleteAfter: false });
