import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import * as eventkv from '../src/index.js';

const stream = { database: 'default', type: 'BankAccount', id: '42' };

// One instance of every error class, as core raises it (the conformance suite raises each
// through the public API; this pins the shape every class shares).
const samples: [eventkv.EventKvError, string, (e: unknown) => boolean][] = [
  [
    new eventkv.VersionMismatchError(stream, 1, 2),
    'VERSION_MISMATCH',
    eventkv.isVersionMismatchError,
  ],
  [new eventkv.NotOpenError(stream, 's'), 'NOT_OPEN', eventkv.isNotOpenError],
  [
    new eventkv.SessionExpiredError(stream, 's', 0),
    'SESSION_EXPIRED',
    eventkv.isSessionExpiredError,
  ],
  [
    new eventkv.InvalidSessionError(stream, 's', 't'),
    'INVALID_SESSION',
    eventkv.isInvalidSessionError,
  ],
  [
    new eventkv.OpenFailedError(stream, 0, 10, 'other-session'),
    'OPEN_FAILED',
    eventkv.isOpenFailedError,
  ],
  [new eventkv.StreamLockedError(stream, 10), 'STREAM_LOCKED', eventkv.isStreamLockedError],
  [
    new eventkv.VersionNotFoundError(stream, 3, 2),
    'VERSION_NOT_FOUND',
    eventkv.isVersionNotFoundError,
  ],
  [
    new eventkv.SnapshotVersionNotFoundError(stream, 3),
    'SNAPSHOT_VERSION_NOT_FOUND',
    eventkv.isSnapshotVersionNotFoundError,
  ],
  [
    new eventkv.IdempotencyIdNotFoundError(stream, 'm'),
    'IDEMPOTENCY_ID_NOT_FOUND',
    eventkv.isIdempotencyIdNotFoundError,
  ],
  [
    new eventkv.DuplicateIdempotencyIdError(stream, 'm', 1),
    'DUPLICATE_IDEMPOTENCY_ID',
    eventkv.isDuplicateIdempotencyIdError,
  ],
  [new eventkv.CorruptRecordError('k', 1, 'bad'), 'CORRUPT_RECORD', eventkv.isCorruptRecordError],
  [
    new eventkv.InvalidArgumentError('events[0].type', 'must not be empty'),
    'INVALID_ARGUMENT',
    eventkv.isInvalidArgumentError,
  ],
  [
    new eventkv.StorageError('get', { cause: new Error('disk') }),
    'STORAGE_FAILURE',
    eventkv.isStorageError,
  ],
  [
    new eventkv.StorageFullError('commit', { cause: new Error('QuotaExceededError') }),
    'STORAGE_FULL',
    eventkv.isStorageFullError,
  ],
  [
    new eventkv.StorageBlockedError('eventkv-app', 5000),
    'STORAGE_BLOCKED',
    eventkv.isStorageBlockedError,
  ],
  [new eventkv.KvConditionError(['k']), 'KV_CONDITION_FAILED', eventkv.isKvConditionError],
];

describe('errors', () => {
  it.each(samples.map((s) => [s[1], ...s] as const))(
    '%s has its code, name, guard and message',
    (_, error, code, guard) => {
      expect(error.code).toBe(code);
      expect(error).toBeInstanceOf(eventkv.EventKvError);
      expect(error.name).toBe(error.constructor.name);
      expect(error.message.length).toBeGreaterThan(20);
      expect(guard(error)).toBe(true);
      expect(eventkv.isEventKvError(error)).toBe(true);
      // Guards match by code, so errors from another realm or rebuilt from the wire pass too.
      expect(guard(Object.assign(new Error('x'), { code }))).toBe(true);
      expect(guard(new Error('x'))).toBe(false);
      expect(guard({ code })).toBe(false);
      expect(guard(null)).toBe(false);
      // An Error made in another realm (a vm context here; an iframe in a browser).
      const foreign = runInNewContext(`Object.assign(new Error('far'), { code: '${code}' })`);
      expect(foreign instanceof Error).toBe(false);
      expect(guard(foreign)).toBe(true);
      expect(eventkv.isEventKvError(foreign)).toBe(true);
      // Rebuilt as plain data with a message (what errorToJSON gives).
      expect(guard({ code, message: 'as data' })).toBe(true);
    },
  );

  it('messages name the stream and say what to do', () => {
    const tenant = { ...stream, database: 'tenant-1' };
    expect(new eventkv.VersionMismatchError(tenant, 1, 2).message).toMatch(
      /BankAccount\/42 \(database 'tenant-1'\).*expected 1, actual 2.*reload/,
    );
    expect(new eventkv.OpenFailedError(stream, 500, 0, 'session-7').message).toMatch(
      /locked by session session-7 until 1970-01-01T00:00:00.000Z.*500 ms.*Retry/,
    );
    expect(new eventkv.StorageError('commit', { cause: new Error('disk full') }).message).toMatch(
      /disk full.*safe to retry/,
    );
    expect(new eventkv.StorageError('commit').cause).toBeUndefined();
  });

  it('a backend error with a code of its own is not an eventkv error, and gets wrapped', async () => {
    const enoent = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    expect(eventkv.isEventKvError(enoent)).toBe(false);
    const kv = { ...eventkv.createMemoryKv(), read: async () => Promise.reject(enoent) };
    const stream = eventkv.createEventStore({ kv }).stream({ type: 'A', id: '1' });
    const error = await stream.version().catch((e: unknown) => e);
    expect(eventkv.isStorageError(error)).toBe(true);
    expect((error as Error).cause).toBe(enoent);
  });

  it('keeps the backend error as cause', () => {
    const cause = new Error('IDB aborted');
    expect(new eventkv.StorageError('commit', { cause }).cause).toBe(cause);
    expect(new eventkv.CorruptRecordError('k', undefined, 'bad', { cause }).cause).toBe(cause);
  });
});

describe('errors as plain data (errorToJSON / errorFromJSON)', () => {
  it.each(samples.map((s) => [s[1], ...s] as const))(
    '%s survives a trip through JSON with its class, fields and message',
    (_, error, code, guard) => {
      const json = eventkv.errorToJSON(error);
      expect(json.code).toBe(code);
      expect(json.message).toBe(error.message);
      expect(json).not.toHaveProperty('stack');
      expect(json).not.toHaveProperty('cause');
      const back = eventkv.errorFromJSON(JSON.parse(JSON.stringify(json)));
      expect(guard(back)).toBe(true);
      expect(back).toBeInstanceOf(error.constructor);
      expect(back.message).toBe(error.message);
      const { cause: _cause, stack: _stack, ...fields } = { ...error };
      expect({ ...back }).toEqual({ ...fields });
    },
  );

  it('keeps fields a user acts on: a version mismatch carries expected and actual', () => {
    const back = eventkv.errorFromJSON(
      eventkv.errorToJSON(new eventkv.VersionMismatchError(stream, 3, 5)),
    );
    expect(eventkv.isVersionMismatchError(back)).toBe(true);
    expect(back).toMatchObject({ stream, expected: 3, actual: 5 });
  });

  it("a backend's own error becomes STORAGE_FAILURE of the operation, with its message", () => {
    const json = eventkv.errorToJSON(new Error('SQLITE_BUSY'), 'append');
    expect(json).toMatchObject({ code: 'STORAGE_FAILURE', operation: 'append' });
    expect(json.message).toMatch(/append.*SQLITE_BUSY/);
  });

  it('anything that is not an error JSON becomes a StorageError, never a throw', () => {
    for (const junk of [undefined, null, 42, 'boom', { code: 'NOPE', message: 'm' }, {}]) {
      const error = eventkv.errorFromJSON(junk, 'fetch');
      expect(eventkv.isStorageError(error)).toBe(true);
      expect((error as eventkv.StorageError).operation).toBe('fetch');
    }
    expect(eventkv.errorFromJSON({ code: 'NOPE', message: 'teapot' }).message).toMatch(/teapot/);
    expect(eventkv.errorFromJSON({ code: 'toString' }).code).toBe('STORAGE_FAILURE');
  });
});
