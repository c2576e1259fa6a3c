// The names the app and its service worker share (a module of its own: the service
// worker bundles only what it imports).

/** The database the demo's accounts live in: the one `pnpm start`'s token grants. */
export const DATABASE = 'demo';

/**
 * The IndexedDB database of the demo's replica. A name of its own: a store that syncs
 * keeps its outbox and its copy of the Worker's events beside each other, and must not
 * adopt events another store wrote there as if the Worker had confirmed them.
 */
export const REPLICA_DATABASE_NAME = 'eventkv-demo-replica';
