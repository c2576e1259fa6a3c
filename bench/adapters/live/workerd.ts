/**
 * The eventkv Worker and the floor Worker in one local workerd, driven through Miniflare's
 * API (no `wrangler dev`: no proxy Worker and no Node server between the client and the
 * Worker). Each Worker listens on a loopback port of its own (`unsafeDirectSockets`), so a
 * request reaches it straight from workerd's socket, without Miniflare's entry Worker.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from 'miniflare';

export interface Runtime {
  /** The eventkv Worker's own socket. */
  readonly eventkv: URL;
  /** The floor Worker's own socket. */
  readonly floor: URL;
  dispose(): Promise<void>;
}

// Resolved from the bundled runner in bench/dist/.
const WORKER_DIR = fileURLToPath(new URL('../../apps/worker/', import.meta.url));
const FLOOR_WORKER = fileURLToPath(new URL('../adapters/live/floor-worker.ts', import.meta.url));

/** `wrangler.jsonc`: JSON with `//` and `/* *\/` comments (outside strings). */
const readJsonc = (file: string): unknown => {
  const text = readFileSync(file, 'utf8');
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      out += text.slice(start, i + 1);
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2) + 1;
    } else {
      out += c;
    }
  }
  return JSON.parse(out);
};

interface WranglerConfig {
  readonly compatibility_date: string;
  readonly compatibility_flags?: string[];
  readonly vars?: Record<string, string>;
  readonly durable_objects?: { bindings: { name: string; class_name: string }[] };
  readonly migrations?: { new_sqlite_classes?: string[] }[];
}

/** The config's Durable Object bindings, SQLite-backed where its migrations say so. */
const durableObjectsOf = (config: WranglerConfig) => {
  const sqlite = new Set(config.migrations?.flatMap((m) => m.new_sqlite_classes ?? []));
  return Object.fromEntries(
    (config.durable_objects?.bindings ?? []).map(({ name, class_name }) => [
      name,
      { className: class_name, useSQLite: sqlite.has(class_name) },
    ]),
  );
};

/** One ES module for workerd: workspace packages from their sources, as wrangler bundles them. */
const bundle = async (entry: string): Promise<string> => {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['@eventkv/source', 'workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*'],
    write: false,
    logLevel: 'warning',
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error(`esbuild wrote nothing for ${entry}`);
  return file.text;
};

/**
 * Starts both Workers: apps/worker with its `wrangler.jsonc` settings plus `vars`, its
 * `EventStoreObject` SQLite-backed, and the floor Worker with its `PokeHub`. Durable
 * Object storage lives in Miniflare's temporary directory, removed on dispose.
 */
export const startRuntime = async (vars: Readonly<Record<string, string>>): Promise<Runtime> => {
  const config = readJsonc(`${WORKER_DIR}wrangler.jsonc`) as WranglerConfig;
  const [eventkvScript, floorScript] = await Promise.all([
    bundle(`${WORKER_DIR}src/index.ts`),
    bundle(FLOOR_WORKER),
  ]);
  const direct = [{ host: '127.0.0.1', port: 0 }];
  const mf = new Miniflare(
    convertV4MiniflareOptions({
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
          compatibilityDate: config.compatibility_date,
          compatibilityFlags: config.compatibility_flags ?? [],
          bindings: { ...config.vars, ...vars },
          durableObjects: durableObjectsOf(config),
          unsafeDirectSockets: direct,
        },
        {
          name: 'floor',
          modules: true,
          script: floorScript,
          compatibilityDate: config.compatibility_date,
          durableObjects: { HUB: { className: 'PokeHub', useSQLite: true } },
          unsafeDirectSockets: direct,
        },
      ],
    }),
  );
  try {
    await mf.ready;
    return {
      eventkv: await mf.unsafeGetDirectURL('eventkv'),
      floor: await mf.unsafeGetDirectURL('floor'),
      dispose: () => mf.dispose(),
    };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
};
