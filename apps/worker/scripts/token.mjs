#!/usr/bin/env node
// Mints a bearer token for the local Worker: `pnpm --filter @eventkv/worker token acme [ttl-seconds]`.
// Signs with AUTH_SECRET from the environment, else the local development secret that
// `pnpm dev` passes to `wrangler dev`. Never use the local secret in production.
import { sign } from 'hono/jwt';

export const LOCAL_DEV_SECRET = 'local-dev-secret-not-for-production-0000';

const [database, ttlArg = '3600'] = process.argv.slice(2);
if (!database) {
  console.error('usage: pnpm --filter @eventkv/worker token <database> [ttl-seconds]');
  process.exit(1);
}
const ttl = Number(ttlArg);
if (!Number.isSafeInteger(ttl) || ttl < 1) {
  console.error(`ttl-seconds must be a positive integer (got ${ttlArg})`);
  process.exit(1);
}
const now = Math.floor(Date.now() / 1000);
const token = await sign(
  {
    db: database,
    sub: process.env.USER ?? 'local',
    iss: process.env.AUTH_ISSUER ?? 'eventkv',
    aud: process.env.AUTH_AUDIENCE ?? 'eventkv-api',
    iat: now,
    exp: now + ttl,
  },
  process.env.AUTH_SECRET ?? LOCAL_DEV_SECRET,
  'HS256',
);
console.log(token);
