/**
 * The eventkv Worker (apps/worker) and the floor Worker in one local workerd, driven through
 * Miniflare's API as the live bench does (`adapters/live/workerd.ts`): no `wrangler dev`, so
 * no proxy Worker and no Node server between the client and the Worker. Each Worker listens
 * on a loopback port of its own (`unsafeDirectSockets`), so a request reaches it straight
 * from workerd's socket, without Miniflare's entry Worker.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';

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

// Resolved from the bundled runner in bench/dist/.
const WORKER_CONFIG = fileURLToPath(new URL('../../apps/worker/wrangler.jsonc', import.meta.url));
const FLOOR_WORKER = fileURLToPath(new URL('../adapters/http/floor-worker.ts', import.meta.url));

/**
 * One ES module for workerd, built with the options `wrangler deploy` gives esbuild (target
 * es2024, `keepNames`, `process.env.NODE_ENV` "production", conditions workerd, worker,
 * browser), plus `@eventkv/source`: workspace packages from their sources, as the Worker's
 * tests and `wrangler dev` here bundle them.
 */
const bundle = async (entry: string): Promise<string> => {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    target: 'es2024',
    keepNames: true,
    conditions: ['@eventkv/source', 'workerd', 'worker', 'browser'],
    define: { 'process.env.NODE_ENV': '"production"' },
    external: ['cloudflare:*'],
    write: false,
    logLevel: 'warning',
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error(`esbuild wrote nothing for ${entry}`);
  return file.text;
};

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The pids of `pid`'s descendants named `workerd` (Linux /proc; none elsewhere). */
const workerdPids = (pid: number): number[] => {
  let stats: { pid: number; ppid: number; name: string }[];
  try {
    stats = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .flatMap((name) => {
        try {
          const text = readFileSync(`/proc/${name}/stat`, 'utf8');
          const close = text.lastIndexOf(')');
          const fields = text.slice(close + 2).split(' ');
          return [
            {
              pid: Number(name),
              ppid: Number(fields[1]),
              name: text.slice(text.indexOf('(') + 1, close),
            },
          ];
        } catch {
          return [];
        }
      });
  } catch {
    return [];
  }
  const mine = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of stats) {
      if (!mine.has(s.pid) && mine.has(s.ppid)) {
        mine.add(s.pid);
        grew = true;
      }
    }
  }
  return stats
    .filter((s) => s.pid !== pid && mine.has(s.pid) && s.name === 'workerd')
    .map((s) => s.pid);
};

/** utime + stime of `pid` in ms, or undefined when it is gone. */
const cpuOf = (pid: number): number | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
};

/** What the Worker's `wrangler.jsonc` sets, as Miniflare options. */
interface ConfigOptions {
  readonly compatibilityDate: string;
  readonly compatibilityFlags?: string[];
  readonly bindings?: Record<string, string>;
  readonly durableObjects: Record<string, { className: string; useSQLite: boolean }>;
}

/**
 * Where Durable Object storage goes by default: memory-backed `/dev/shm` where there is one.
 * On disk, every commit's write and sync costs workerd system time and waits on the disk,
 * which other jobs on a shared machine use too: the floor's `put` then moved 4x between
 * samples, and the bench would time the disk rather than the Worker.
 */
export const defaultStorageRoot = (): string => (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());

/**
 * Starts both Workers: apps/worker with the settings wrangler reads from its
 * `wrangler.jsonc` (compatibility date and flags, vars, the SQLite-backed `EventStoreObject`)
 * plus `vars`, and the floor Worker with its `FloorObject`. Durable Object storage lives in a
 * new directory under `storageRoot`, removed on dispose.
 */
export const startRuntime = async (
  vars: Readonly<Record<string, string>>,
  storageRoot: string = defaultStorageRoot(),
  options: { readonly inspect?: boolean } = {},
): Promise<Runtime> => {
  const read = unstable_getMiniflareWorkerOptions(WORKER_CONFIG);
  if (read.main === undefined) throw new Error(`${WORKER_CONFIG} names no main module`);
  // Typed loosely by wrangler (its own copy of Miniflare's types); these are the fields used.
  const workerOptions = read.workerOptions as unknown as ConfigOptions;
  const [eventkvScript, floorScript] = await Promise.all([bundle(read.main), bundle(FLOOR_WORKER)]);
  const direct = [{ host: '127.0.0.1', port: 0 }];
  const storage = mkdtempSync(join(storageRoot, 'eventkv-bench-http-'));
  const remove = () => rmSync(storage, { recursive: true, force: true });
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      resourcePersistencePath: storage,
      ...(options.inspect ? { inspectorPort: 0 } : {}),
      host: '127.0.0.1',
      port: 0,
      log: new Log(LogLevel.WARN),
      // The placeholder `request.cf` (neither Worker reads it) instead of fetching one.
      cf: false,
      workers: [
        {
          name: 'eventkv',
          modules: true,
          script: eventkvScript,
          compatibilityDate: workerOptions.compatibilityDate,
          compatibilityFlags: workerOptions.compatibilityFlags ?? [],
          bindings: { ...workerOptions.bindings, ...vars },
          durableObjects: workerOptions.durableObjects,
          unsafeDirectSockets: direct,
        },
        {
          name: 'floor',
          modules: true,
          script: floorScript,
          compatibilityDate: workerOptions.compatibilityDate,
          compatibilityFlags: workerOptions.compatibilityFlags ?? [],
          durableObjects: { FLOOR: { className: 'FloorObject', useSQLite: true } },
          unsafeDirectSockets: direct,
        },
      ],
    }),
  );
  try {
    await mf.ready;
    const pids = workerdPids(process.pid);
    return {
      eventkv: await mf.unsafeGetDirectURL('eventkv'),
      floor: await mf.unsafeGetDirectURL('floor'),
      eventkvScript,
      inspector: options.inspect ? await mf.getInspectorURL() : undefined,
      cpuMs: () => {
        if (pids.length === 0) return undefined;
        let total = 0;
        for (const pid of pids) {
          const ms = cpuOf(pid);
          if (ms === undefined) return undefined;
          total += ms;
        }
        return total;
      },
      dispose: async () => {
        await mf.dispose();
        remove();
      },
    };
  } catch (error) {
    await mf.dispose();
    remove();
    throw error;
  }
};
