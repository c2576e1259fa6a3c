import { LIVE_TOKEN_PREFIX } from '@eventkv/sync/edge';
import { verify } from 'hono/jwt';
import { fail } from './failures.js';
import type { AuthSettings } from './settings.js';

/** The claims a request acts under, once its token is verified. */
export interface Principal {
  /** The database (tenant) the token grants; the only one the request may touch. */
  readonly database: string;
  readonly subject: string | undefined;
  /** When the token expires (ms since epoch): a long-lived connection ends then. */
  readonly expiresAt: number;
}

/** Keys shorter than this are refused: HS256 is only as strong as its key. */
export const MIN_SECRET_LENGTH = 32;

// Imported once per secret, as a raw HMAC key: handing Hono the string would re-import it
// on every request, and read a secret containing "PUBLIC" or "PRIVATE" as a PEM key.
let cachedKey: { secret: string; key: Promise<CryptoKey> } | undefined;
const hmacKey = (secret: string): Promise<CryptoKey> => {
  if (cachedKey?.secret !== secret) {
    const key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    cachedKey = { secret, key };
  }
  return cachedKey.key;
};

/**
 * The `Authorization` of a request, or for a WebSocket upgrade without one (a browser
 * cannot set headers on a WebSocket) the token offered as a `bearer.<jwt>` subprotocol.
 */
export const authorizationOf = (request: Request): string | undefined => {
  const header = request.headers.get('Authorization');
  if (header !== null || request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
    return header ?? undefined;
  }
  const offered = (request.headers.get('Sec-WebSocket-Protocol') ?? '').split(',');
  const token = offered.map((p) => p.trim()).find((p) => p.startsWith(LIVE_TOKEN_PREFIX));
  return token === undefined ? undefined : `Bearer ${token.slice(LIVE_TOKEN_PREFIX.length)}`;
};

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;

/** How many verified tokens an isolate remembers (`verifiedTokens`). */
const VERIFIED_TOKENS_MAX = 1024;

interface Verified {
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
  /** The time claims, re-checked on every use exactly as `verify` checks them. */
  readonly nbf: number | undefined;
  readonly iat: number | undefined;
  readonly exp: number;
  readonly principal: Principal;
}

// Tokens verified in this isolate, by token (signature included), oldest first: a client
// sends the same token on every request until it expires, and verifying it (base64 and JSON
// decoding of both parts, an HMAC) cost more Worker CPU per append than routing the request.
// An entry only answers for the key and claims it was verified with, and only while its
// time claims still hold; bounded, the oldest dropped first. Failures are never kept.
const verifiedTokens = new Map<string, Verified>();

/** The cached principal of `token`, if it was verified with these settings and still holds. */
const remembered = (token: string, secret: string, settings: AuthSettings) => {
  const entry = verifiedTokens.get(token);
  if (
    entry === undefined ||
    entry.secret !== secret ||
    entry.issuer !== settings.issuer ||
    entry.audience !== settings.audience
  ) {
    return undefined;
  }
  // `verify`'s own comparisons (hono/jwt), on the same clock.
  const now = Math.floor(Date.now() / 1000);
  if (
    entry.exp <= now ||
    (entry.nbf !== undefined && entry.nbf > now) ||
    (entry.iat !== undefined && now < entry.iat)
  ) {
    verifiedTokens.delete(token);
    return undefined;
  }
  return entry.principal;
};

const remember = (token: string, entry: Verified): void => {
  if (verifiedTokens.size >= VERIFIED_TOKENS_MAX) {
    const oldest = verifiedTokens.keys().next().value;
    if (oldest !== undefined) verifiedTokens.delete(oldest);
  }
  verifiedTokens.set(token, entry);
};

/**
 * Verifies a bearer token: HS256 only (the algorithm is pinned, so `none` and every other
 * algorithm fail), signature, `iss`, `aud`, `exp` (required) and `nbf` (when present), and a
 * string `db` claim naming the database.
 */
export const authenticate = async (
  authorization: string | undefined,
  settings: AuthSettings,
): Promise<Principal> => {
  const secret = settings.secret;
  if (secret === undefined || secret.length < MIN_SECRET_LENGTH) {
    // Fail closed: without a real key no token can be trusted.
    return fail(
      'AUTH_NOT_CONFIGURED',
      `The server has no AUTH_SECRET of at least ${MIN_SECRET_LENGTH} characters; set it with \`wrangler secret put AUTH_SECRET\`.`,
    );
  }
  const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
  if (token === undefined) {
    return fail('UNAUTHORIZED', 'Missing or malformed bearer token (Authorization: Bearer <jwt>).');
  }
  const known = remembered(token, secret, settings);
  if (known !== undefined) return known;
  let claims: Record<string, unknown>;
  try {
    claims = await verify(token, await hmacKey(secret), {
      alg: 'HS256',
      iss: settings.issuer,
      aud: settings.audience,
    });
  } catch (error) {
    return fail('UNAUTHORIZED', `Invalid bearer token (${(error as Error).name}).`);
  }
  // Hono checks `exp` only when present; a token that never expires is refused here.
  if (typeof claims.exp !== 'number') {
    return fail('UNAUTHORIZED', 'Invalid bearer token (it has no exp claim).');
  }
  const database = claims.db;
  if (typeof database !== 'string' || database.length === 0) {
    return fail('UNAUTHORIZED', 'Invalid bearer token (it has no db claim naming a database).');
  }
  // Frozen: the same object answers every later request with this token.
  const principal: Principal = Object.freeze({
    database,
    subject: typeof claims.sub === 'string' ? claims.sub : undefined,
    expiresAt: claims.exp * 1000,
  });
  remember(token, {
    secret,
    issuer: settings.issuer,
    audience: settings.audience,
    nbf: claims.nbf as number | undefined,
    iat: claims.iat as number | undefined,
    exp: claims.exp,
    principal,
  });
  return principal;
};
