import { InvalidArgumentError } from './errors.js';
import type { ExpectedVersion } from './types.js';

export const MAX_NAME_LENGTH = 256;

// Lone surrogates cannot be encoded into keys (and would sort differently per backend).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

/**
 * No control character (C0, DEL or C1) and no surrogate at all: what nearly every name is. One pass over
 * the characters, cheaper than the two patterns below, which run only when it fails.
 */
const isPlainText = (value: string): boolean => {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
};

/** Whether `validateName` would accept `value`, without building anything for an error. */
export const isValidName = (value: unknown): value is string =>
  typeof value === 'string' &&
  value.length > 0 &&
  value.length <= MAX_NAME_LENGTH &&
  isPlainText(value);

/** A name that becomes part of a key: database, aggregate type/id, message id, index value. */
export const validateName = (field: string, value: unknown): string => {
  if (typeof value !== 'string') throw new InvalidArgumentError(field, 'must be a string');
  if (value.length === 0) throw new InvalidArgumentError(field, 'must not be empty');
  if (value.length > MAX_NAME_LENGTH) {
    throw new InvalidArgumentError(
      field,
      `must be at most ${MAX_NAME_LENGTH} characters (got ${value.length})`,
    );
  }
  if (isPlainText(value)) return value;
  if (LONE_SURROGATE.test(value)) {
    throw new InvalidArgumentError(
      field,
      'must be well-formed UTF-16 (it contains a lone surrogate)',
    );
  }
  if (CONTROL.test(value))
    throw new InvalidArgumentError(field, 'must not contain control characters');
  return value;
};

/** A non-negative (or positive, with `min` 1) safe integer. */
export const validateInteger = (field: string, value: unknown, min: number): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(field, `must be an integer (got ${String(value)})`);
  }
  if (value < min) throw new InvalidArgumentError(field, `must be at least ${min} (got ${value})`);
  return value;
};

export const validateExpectedVersion = (value: unknown): ExpectedVersion => {
  if (value === undefined) return 'any';
  if (value === 'any' || value === 'no-stream' || value === 'exists') return value;
  if (typeof value === 'number') return validateInteger('expectedVersion', value, 0);
  throw new InvalidArgumentError(
    'expectedVersion',
    `must be a version number, 'no-stream', 'exists' or 'any' (got ${String(value)})`,
  );
};

export const validateTime = (field: string, value: unknown): number | undefined => {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) {
    throw new InvalidArgumentError(
      field,
      'must be a Date or a non-negative integer of milliseconds',
    );
  }
  return ms;
};

/** Whether `validateObject` would accept `value`. */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const validateObject = (field: string, value: unknown): Record<string, unknown> => {
  if (!isRecord(value)) throw new InvalidArgumentError(field, 'must be an object');
  return value;
};
