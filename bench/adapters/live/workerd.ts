/**
 * The eventkv Worker (apps/worker) and the floor Worker (`floor-worker.ts`) in one local
 * workerd, started by the benches' shared launcher (`../shared/workerd.ts`: Miniflare's API,
 * each Worker on its own loopback socket, no `wrangler dev`).
 */
import { benchWorker, startWorkerd } from '../shared/workerd.js';

export interface Runtime {
  /** The eventkv Worker's own socket. */
  readonly eventkv: URL;
  /** The same Worker with `ROUTING=stream` (its own objects), for the push subjects. */
  readonly eventkvStream: URL;
  /** The floor Worker's own socket. */
  readonly floor: URL;
  dispose(): Promise<void>;
}

/**
 * Starts both Workers: apps/worker with its `wrangler.jsonc` settings plus `vars`, its
 * `EventStoreObject` SQLite-backed, and the floor Worker with its `PokeHub`. Durable Object
 * storage lives in a new directory under `/dev/shm` (or the system's temporary directory),
 * removed on dispose.
 */
export const startRuntime = async (vars: Readonly<Record<string, string>>): Promise<Runtime> => {
  const workerd = await startWorkerd([
    { name: 'eventkv', eventkv: { vars } },
    { name: 'eventkv-stream', eventkv: { vars: { ...vars, ROUTING: 'stream' } } },
    {
      name: 'floor',
      entry: benchWorker('live/floor-worker.ts'),
      durableObjects: { HUB: 'PokeHub' },
    },
  ]);
  return {
    eventkv: workerd.url('eventkv'),
    eventkvStream: workerd.url('eventkv-stream'),
    floor: workerd.url('floor'),
    dispose: () => workerd.dispose(),
  };
};
