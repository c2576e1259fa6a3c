/**
 * The eventkv Worker (apps/worker) and the benches' own Workers in one local workerd, driven
 * through Miniflare's API: no `wrangler dev`, so no proxy Worker and no Node server between
 * the client and the Worker. Each Worker listens on a loopback port of its own
 * (`unsafeDirectSockets`), so a request reaches it straight from workerd's socket, without
 * Miniflare's entry Worker. The HTTP, live and feed benches start their Workers here.
 *
 * `miniflare` is the package wrangler depends on, a devDependency of the bench pinned to
 * wrangler's version: bump them together.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';

/** One Worker to start. */
export type WorkerSpec =
  | {
      /** Its name in workerd, and the key of its socket in `Workerd.url`. */
      readonly name: string;
      /**
       * apps/worker as `wrangler.jsonc` sets it (compatibility date and flags, vars, the
       * SQLite-backed `EventStoreObject`), with `vars` over the config's. `entry`, when
       * given, replaces the config's `main`: a bench module that exports the Worker and an
       * `EventStoreObject` of its own (e.g. one that also reports what its feed applied).
       */
      readonly eventkv: {
        readonly vars: Readonly<Record<string, string>>;
        readonly entry?: string;
      };
    }
  | {
      readonly name: string;
      /** A bench Worker's source file (bundled like apps/worker), with the eventkv Worker's compatibility date and flags. */
      readonly entry: string;
      /** Its Durable Object bindings: binding name to class name, each SQLite-backed. */
      readonly durableObjects?: Readonly<Record<string, string>>;
    };

export interface Workerd {
  /** The named Worker's own socket. */
  url(name: string): URL;
  /** The named Worker's bundle as workerd runs it (`// path` comments start each module). */
  script(name: string): string;
  /** The inspector (Chrome DevTools protocol) of workerd, when started with `inspect`. */
  readonly inspector: URL | undefined;
  /** workerd's CPU time so far (user + system, ms), or undefined where it cannot be read. */
  cpuMs(): number | undefined;
  dispose(): Promise<void>;
}

// Resolved from the bundled runner in bench/dist/.
const WORKER_CONFIG = fileURLToPath(new URL('../../apps/worker/wrangler.jsonc', import.meta.url));

/** A bench Worker's source, by its path under bench/adapters/ (resolved from bench/dist/). */
export const benchWorker = (path: string): string =>
  fileURLToPath(new URL(`../adapters/${path}`, import.meta.url));

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
 * Starts `workers` in one workerd. Durable Object storage lives in a new directory under
 * `storageRoot`, removed on dispose.
 */
export const startWorkerd = async (
  workers: readonly WorkerSpec[],
  options: { readonly storageRoot?: string; readonly inspect?: boolean } = {},
): Promise<Workerd> => {
  const read = unstable_getMiniflareWorkerOptions(WORKER_CONFIG);
  const main = read.main;
  if (main === undefined) throw new Error(`${WORKER_CONFIG} names no main module`);
  // Typed loosely by wrangler (its own copy of Miniflare's types); these are the fields used.
  const config = read.workerOptions as unknown as ConfigOptions;
  const scripts = new Map<string, string>(
    await Promise.all(
      workers.map(
        async (w) =>
          [w.name, await bundle('eventkv' in w ? (w.eventkv.entry ?? main) : w.entry)] as [
            string,
            string,
          ],
      ),
    ),
  );
  const direct = [{ host: '127.0.0.1', port: 0 }];
  const storage = mkdtempSync(join(options.storageRoot ?? defaultStorageRoot(), 'eventkv-bench-'));
  const remove = () => rmSync(storage, { recursive: true, force: true });
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      resourcePersistencePath: storage,
      ...(options.inspect ? { inspectorPort: 0 } : {}),
      host: '127.0.0.1',
      port: 0,
      log: new Log(LogLevel.WARN),
      // The placeholder `request.cf` (no Worker here reads it) instead of fetching one.
      cf: false,
      workers: workers.map((w) => ({
        name: w.name,
        modules: true,
        script: scripts.get(w.name) as string,
        compatibilityDate: config.compatibilityDate,
        compatibilityFlags: config.compatibilityFlags ?? [],
        ...('eventkv' in w
          ? {
              bindings: { ...config.bindings, ...w.eventkv.vars },
              durableObjects: config.durableObjects,
            }
          : {
              durableObjects: Object.fromEntries(
                Object.entries(w.durableObjects ?? {}).map(([binding, className]) => [
                  binding,
                  { className, useSQLite: true },
                ]),
              ),
            }),
        unsafeDirectSockets: direct,
      })),
    }),
  );
  try {
    await mf.ready;
    const pids = workerdPids(process.pid);
    const urls = new Map<string, URL>();
    for (const w of workers) urls.set(w.name, await mf.unsafeGetDirectURL(w.name));
    const known = <T>(map: Map<string, T>, name: string): T => {
      const value = map.get(name);
      if (value === undefined) throw new Error(`no Worker named ${name} was started`);
      return value;
    };
    return {
      url: (name) => known(urls, name),
      script: (name) => known(scripts, name),
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
