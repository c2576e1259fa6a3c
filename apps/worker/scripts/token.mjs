#!/usr/bin/env node
// Mints a bearer token for the local Worker: `pnpm --filter @eventkv/worker token acme [ttl-seconds]`.
// Signs with AUTH_SECRET from the environment, else the local development secret that
// `pnpm dev` passes to `wrangler dev`. Never use the local secret in production.
import { mintLocalToken } from './local-dev.mjs';

const [database, ttlArg = '3600'] = process.argv.slice(2);
if (!database) {
  console.error('usage: pnpm --filter @eventkv/worker token <database> [ttl-seconds]');
  process.exit(1);
}
const ttlSeconds = Number(ttlArg);
if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) {
  console.error(`ttl-seconds must be a positive integer (got ${ttlArg})`);
  process.exit(1);
}
console.log(await mintLocalToken(database, { ttlSeconds }));
