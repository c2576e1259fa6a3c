import type { Env } from './env.js';

export interface AuthSettings {
  /** HS256 key. Missing or shorter than 32 characters: every request fails closed (500). */
  readonly secret: string | undefined;
  readonly issuer: string;
  readonly audience: string;
}

/** What a request is checked against, resolved from the bindings of each request. */
export interface ApiSettings {
  readonly auth: AuthSettings;
  /** Largest request body in bytes. */
  readonly maxBodyBytes: number;
  /** Requests per minute per database in one isolate; 0 = no limit. */
  readonly rateLimitPerMinute: number;
  /** Browser origins allowed to call the API (CORS); empty = none. */
  readonly corsOrigins: readonly string[];
}

/**
 * Large enough for the largest append the store accepts (1 MiB of payload as stored, see
 * `DEFAULT_PAYLOAD_LIMITS`) in its JSON text, where escapes can take up to 6 bytes for a
 * stored character: the store's limits, measured on what is stored, decide; this bounds
 * what one request can make the Worker read.
 */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;
export const DEFAULT_ISSUER = 'eventkv';
export const DEFAULT_AUDIENCE = 'eventkv-api';

const count = (value: string | undefined, fallback: number): number => {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  // A mistyped setting must not silently lift a limit: fall back to the default.
  return Number.isSafeInteger(n) && n >= 0 ? n : fallback;
};

/** Reads the settings from Worker vars and secrets. */
export const settingsFromEnv = (env: Env): ApiSettings => ({
  auth: {
    secret: env.AUTH_SECRET,
    issuer: env.AUTH_ISSUER || DEFAULT_ISSUER,
    audience: env.AUTH_AUDIENCE || DEFAULT_AUDIENCE,
  },
  maxBodyBytes: count(env.MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES) || DEFAULT_MAX_BODY_BYTES,
  rateLimitPerMinute: count(env.RATE_LIMIT_PER_MINUTE, DEFAULT_RATE_LIMIT_PER_MINUTE),
  corsOrigins: (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== ''),
});

/** The vars `settingsFromEnv` reads. */
type SettingsVars = Pick<
  Env,
  | 'AUTH_SECRET'
  | 'AUTH_ISSUER'
  | 'AUTH_AUDIENCE'
  | 'MAX_BODY_BYTES'
  | 'RATE_LIMIT_PER_MINUTE'
  | 'CORS_ORIGINS'
>;

const sameVars = (a: SettingsVars, b: SettingsVars): boolean =>
  a.AUTH_SECRET === b.AUTH_SECRET &&
  a.AUTH_ISSUER === b.AUTH_ISSUER &&
  a.AUTH_AUDIENCE === b.AUTH_AUDIENCE &&
  a.MAX_BODY_BYTES === b.MAX_BODY_BYTES &&
  a.RATE_LIMIT_PER_MINUTE === b.RATE_LIMIT_PER_MINUTE &&
  a.CORS_ORIGINS === b.CORS_ORIGINS;

/** The settings last read from each env object, with the vars they were read from. */
const settingsByEnv = new WeakMap<
  Env,
  { readonly vars: SettingsVars; readonly settings: ApiSettings }
>();

/**
 * `settingsFromEnv`, read again only when one of its vars changed: the Worker gets the same
 * env object on every request of an isolate, and parsing the vars (the CORS list split and
 * trimmed) each time was CPU spent on every request.
 */
export const cachedSettingsFromEnv = (env: Env): ApiSettings => {
  const known = settingsByEnv.get(env);
  if (known !== undefined && sameVars(known.vars, env)) return known.settings;
  const settings = settingsFromEnv(env);
  settingsByEnv.set(env, {
    vars: {
      AUTH_SECRET: env.AUTH_SECRET,
      AUTH_ISSUER: env.AUTH_ISSUER,
      AUTH_AUDIENCE: env.AUTH_AUDIENCE,
      MAX_BODY_BYTES: env.MAX_BODY_BYTES,
      RATE_LIMIT_PER_MINUTE: env.RATE_LIMIT_PER_MINUTE,
      CORS_ORIGINS: env.CORS_ORIGINS,
    } as SettingsVars,
    settings,
  });
  return settings;
};
