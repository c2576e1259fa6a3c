declare namespace Cloudflare {
  interface Env {
    EVENT_STORE: import('@eventkv/durable-object').EventStoreObjectNamespace;
    AUTH_SECRET: string;
    AUTH_ISSUER: string;
    AUTH_AUDIENCE: string;
  }
}
