/**
 * The eventkv Worker (apps/worker) and the floor Worker (`floor-worker.ts`) in one local
 * workerd, started by the benches' shared launcher (`../shared/workerd.ts`: Miniflare's API,
 * each Worker on its own loopback socket, no `wrangler dev`).
 */
import { benchWorker, defaultStorageRoot, startWorkerd } from '../shared/workerd.js';

export { defaultStorageRoot };

export interface Runtime {
  /** The eventkv Worker's own socket. */
  readonly eventkv: URL;
  /** The floor Worker's own socket. */
  readonly floor: URL;
  /** The eventkv Worker's bundle as workerd runs it (`// path` comments start each module). */
  readonly eventkvScript: string;
  /** The inspector (Chrome DevTools protocol) of workerd, when started with `inspect`. */
  readonly inspector: URL | undefined;
  /** workerd's CPU time so far (user + system, ms), or undefined where it cannot be read. */
  cpuMs(): number | undefined;
  dispose(): Promise<void>;
}

/**
 * Starts both Workers: apps/worker with its `wrangler.jsonc` settings plus `vars`, and the
 * floor Worker with its `FloorObject`. Durable Object storage lives in a new directory under
 * `storageRoot`, removed on dispose.
 */
export const startRuntime = async (
  vars: Readonly<Record<string, string>>,
  storageRoot: string = defaultStorageRoot(),
  options: { readonly inspect?: boolean } = {},
): Promise<Runtime> => {
  const workerd = await startWorkerd(
    [
      { name: 'eventkv', eventkv: { vars } },
      {
        name: 'floor',
        entry: benchWorker('http/floor-worker.ts'),
        durableObjects: { FLOOR: 'FloorObject' },
      },
    ],
    { storageRoot, ...options },
  );
  return {
    eventkv: workerd.url('eventkv'),
    floor: workerd.url('floor'),
    eventkvScript: workerd.script('eventkv'),
    inspector: workerd.inspector,
    cpuMs: () => workerd.cpuMs(),
    dispose: () => workerd.dispose(),
  };
};
