// Types of local-dev.mjs for the TypeScript tooling that imports it.

/** Signs tokens for `wrangler dev` on this machine. Never use it in production. */
export declare const LOCAL_DEV_SECRET: string;

/** This Worker's wrangler configuration. */
export declare const WORKER_CONFIG: string;

/**
 * A bearer token for `database`, with the claims the Worker checks (`db`, `iss`, `aud`,
 * `exp`), signed with AUTH_SECRET from the environment or else the development secret.
 */
export declare const mintLocalToken: (
  database: string,
  options?: { ttlSeconds?: number; subject?: string; secret?: string },
) => Promise<string>;

export interface LocalWorker {
  readonly url: URL;
  dispose(): Promise<void>;
}

/**
 * Starts a Worker (this one unless `config` names another) in local workerd on a free
 * loopback port (or `port`), with Durable Object storage in a fresh temporary directory
 * removed on dispose (or in `persist`, kept: a Worker started again on it finds its data).
 * `watch: false`: not rebuilt and restarted when a source file changes (which resets every
 * Durable Object).
 */
export declare const startLocalWorker: (options?: {
  config?: string;
  vars?: Readonly<Record<string, string>>;
  logLevel?: 'none' | 'error' | 'warn' | 'info' | 'log' | 'debug';
  port?: number;
  persist?: string;
  watch?: boolean;
}) => Promise<LocalWorker>;
