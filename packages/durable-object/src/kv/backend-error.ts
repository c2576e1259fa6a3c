import {
  InvalidArgumentError,
  isEventKvError,
  StorageError,
  StorageFullError,
} from '@eventkv/core';

// SQLite's own wording, as workerd passes it through, and Cloudflare's size-limit message.
const FULL = /SQLITE_FULL|database or disk is full|exceeded .*(size|storage)|storage limit/i;
const TOO_BIG = /SQLITE_TOOBIG|string or blob too big/i;

/**
 * Turns what the platform threw into an eventkv error: the condition failures and input
 * errors the adapter raised itself pass through, a full database becomes
 * `StorageFullError`, anything else `StorageError` with the original as `cause`.
 */
export const toKvError = (operation: string, error: unknown): Error => {
  if (isEventKvError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (FULL.test(message)) return new StorageFullError(operation, { cause: error });
  return new StorageError(operation, { cause: error });
};

/** A put the platform refused as too large: the caller's input, not a storage failure. */
export const toPutError = (key: string, error: unknown): unknown => {
  const message = error instanceof Error ? error.message : String(error);
  if (!TOO_BIG.test(message)) return error;
  return new InvalidArgumentError(
    `key '${shorten(key)}'`,
    'the entry is larger than Durable Object storage accepts (key and value together at most 2 MB)',
    { cause: error },
  );
};

/** Keys in messages stay readable even when the key itself is the oversize part. */
export const shorten = (key: string): string =>
  key.length <= 200 ? key : `${key.slice(0, 200)}... (${key.length} characters)`;
