import type { EventStoreObjectNamespace } from '@eventkv/durable-object';

/** The Worker's bindings: the Durable Object namespace, auth secrets and settings (`wrangler.jsonc`). */
export interface Env {
  /** The namespace of `EventStoreObject`, which hosts the streams. */
  readonly EVENT_STORE: EventStoreObjectNamespace;
  /** HS256 key for bearer tokens. A secret (`wrangler secret put AUTH_SECRET`). Required. */
  readonly AUTH_SECRET?: string;
  /** The `iss` every token must carry. */
  readonly AUTH_ISSUER?: string;
  /** The `aud` every token must carry. */
  readonly AUTH_AUDIENCE?: string;
  /** Largest request body in bytes (default 1 MiB). */
  readonly MAX_BODY_BYTES?: string;
  /** Requests per minute per database and isolate; `0` turns the limit off (default 600). */
  readonly RATE_LIMIT_PER_MINUTE?: string;
  /** Comma-separated browser origins allowed to call the API, e.g. `https://app.example`. */
  readonly CORS_ORIGINS?: string;
  /** `stream` (one object per stream, default) or `database` (one per database: queries work). */
  readonly ROUTING?: string;
}
