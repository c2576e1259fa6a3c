import { createHmac } from 'node:crypto';

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * An HS256 bearer token for the local Worker, with the claims `apps/worker/scripts/token.mjs`
 * writes (`db`, `sub`, `iss`, `aud`, `iat`, `exp`), signed with the same secret.
 */
export const mintToken = (secret: string, database: string, ttlSeconds = 3600): string => {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(
    JSON.stringify({
      db: database,
      sub: 'bench',
      iss: 'eventkv',
      aud: 'eventkv-api',
      iat: now,
      exp: now + ttlSeconds,
    }),
  );
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
};
