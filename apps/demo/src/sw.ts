/// <reference lib="webworker" />
// The demo's service worker: it precaches the built app (so it opens offline after the
// first visit) and runs the replica's sync when the browser fires Background Sync.
import { createIndexedDbKv } from '@eventkv/indexeddb';
import {
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  precacheAndRoute,
} from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { syncInBackground } from './background-sync';
import { REPLICA_DATABASE_NAME } from './names';

declare const self: ServiceWorkerGlobalScope & {
  readonly __WB_MANIFEST: Parameters<typeof precacheAndRoute>[0];
};

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));

// New versions take over at once (as `registerType: 'autoUpdate'` did with generateSW).
self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

/** What the browser fires for Background Sync: not in TypeScript's webworker library yet. */
interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
}

// The tag is the agent's name (startSync's default: its `name`, here the replica's).
self.addEventListener('sync' as never, (event: SyncEvent) => {
  if (event.tag !== REPLICA_DATABASE_NAME) return;
  event.waitUntil(
    (async () => {
      const kv = createIndexedDbKv({ name: REPLICA_DATABASE_NAME });
      try {
        await syncInBackground(kv);
      } finally {
        kv.close?.();
      }
    })(),
  );
});
