import { runConformanceSuite } from '@eventkv/core/conformance';
import { createInObjectKv } from './in-object-kv.js';

runConformanceSuite({
  name: 'durable-object (workerd, SQLite-backed storage)',
  createKv: () => createInObjectKv(),
  capabilities: { atomic: true, copiesValues: true, indexes: true },
  // Every KV call is a request into the object (a few ms in the test pool), and the
  // model-based test makes thousands: a fiftieth of the runs (plus the fixed scenarios) keeps the file to about a minute.
  propertyRunScale: 0.02,
});
