import { IDBFactory } from 'fake-indexeddb';
import { tabTests } from './suites/tabs.js';

tabTests({ label: 'fake-indexeddb', factory: () => new IDBFactory(), deleteAfter: false });
