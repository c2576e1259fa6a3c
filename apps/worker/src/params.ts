import { InvalidArgumentError } from '@eventkv/core';

const DIGITS = /^\d{1,16}$/;

/** Decodes one raw path segment exactly once; malformed escapes are refused. */
export const decodeSegment = (field: string, raw: string): string => {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidArgumentError(field, 'is not valid percent-encoded UTF-8');
  }
};

/** An integer query or path value (digits only: no signs, exponents or fractions). */
export const parseInteger = (field: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  if (!DIGITS.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new InvalidArgumentError(field, `must be a non-negative integer (got '${raw}')`);
  }
  return Number(raw);
};

/** The query parameters of a URL, refusing names a route does not know (typos fail loudly). */
export const queryParams = (url: string, allowed: readonly string[]): Record<string, string> => {
  const params: Record<string, string> = {};
  // No query: nothing to parse (most requests; parsing the URL was CPU on each of them).
  if (!url.includes('?')) return params;
  for (const [key, value] of new URL(url).searchParams) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(
        key,
        `is not a query parameter of this route (${allowed.join(', ') || 'none'})`,
      );
    }
    if (key in params) throw new InvalidArgumentError(key, 'is given more than once');
    params[key] = value;
  }
  return params;
};

/** An expected version from an `If-Match` header: `"3"`, `3`, or `*` (the stream exists). */
export const parseIfMatch = (header: string | null): number | 'exists' | undefined => {
  if (header === null) return undefined;
  const value = header.trim();
  if (value === '*') return 'exists';
  const version = parseInteger('If-Match', value.replace(/^"(.*)"$/, '$1'));
  return version;
};
