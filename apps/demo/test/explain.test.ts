import { HttpError } from '@eventkv/client';
import {
  errorFromJSON,
  errorToJSON,
  StorageBlockedError,
  StorageFullError,
  VersionMismatchError,
} from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import { LedgerRuleError } from '../src/domain';
import { explain } from '../src/explain';

const stream = { database: 'default', type: 'BankAccount', id: 'x' };

describe('explain', () => {
  it('passes a rule’s own sentence through', () => {
    expect(explain(new LedgerRuleError('This account is closed.'))).toEqual({
      kind: 'rule',
      message: 'This account is closed.',
    });
  });

  it('explains a conflict with the version acted on and the current one', () => {
    const explained = explain(new VersionMismatchError(stream, 4, 5));
    expect(explained.kind).toBe('conflict');
    expect(explained.message).toContain('You acted on version 4');
    expect(explained.message).toContain('the account is now at version 5');
    expect(explained.message).toContain('Nothing of your command was saved.');
    // Not "version no-stream": an expectation without a number is said in words.
    expect(explain(new VersionMismatchError(stream, 'no-stream', 1)).message).toContain(
      'You acted on a new account, but the account is now at version 1',
    );
    expect(explain(new VersionMismatchError(stream, 'exists', 0)).message).toContain(
      'You acted on an existing account, but the account is now at version 0',
    );
  });

  it('recognizes a conflict that crossed the wire', () => {
    const remote = errorFromJSON(errorToJSON(new VersionMismatchError(stream, 2, 3)));
    expect(explain(remote)).toMatchObject({ kind: 'conflict' });
    expect(explain(remote).message).toContain('version 2');
  });

  it('names the endpoint that cannot be reached', () => {
    const explained = explain(
      new HttpError('NETWORK_FAILURE', 0, 'GET /v1/demo/query: the request failed'),
      'http://127.0.0.1:8787',
    );
    expect(explained.kind).toBe('unreachable');
    expect(explained.message).toContain('The endpoint http://127.0.0.1:8787 is unreachable.');
    expect(explained.message).toContain('Accounts in this browser keep working.');
    // Without an endpoint to name, no gap is left for it.
    expect(explain(new HttpError('NETWORK_FAILURE', 0, 'failed')).message).toMatch(
      /^The endpoint is unreachable\. /,
    );
  });

  it('asks for a new token when the endpoint refuses it', () => {
    for (const [code, status] of [
      ['UNAUTHORIZED', 401],
      ['FORBIDDEN', 403],
    ] as const) {
      expect(explain(new HttpError(code, status, 'no'), 'http://127.0.0.1:8787')).toEqual({
        kind: 'failure',
        message: `The endpoint refused the token (${code}): mint a new one and reconnect.`,
      });
    }
  });

  it('passes other endpoint failures on', () => {
    expect(explain(new HttpError('RATE_LIMITED', 429, 'Too many requests.'))).toEqual({
      kind: 'failure',
      message: 'The endpoint failed: Too many requests.',
    });
  });

  it('explains a full storage', () => {
    expect(explain(new StorageFullError('append'))).toEqual({
      kind: 'failure',
      message: 'This browser’s storage is full: nothing was saved.',
    });
  });

  it('explains a storage blocked by another tab', () => {
    expect(explain(new StorageBlockedError('eventkv-demo', 5000))).toEqual({
      kind: 'failure',
      message: 'Another tab holds an older version of the database open: close it and reload.',
    });
  });

  it('falls back to the error’s message, or the value itself', () => {
    expect(explain(new Error('Something broke.'))).toEqual({
      kind: 'failure',
      message: 'Something broke.',
    });
    expect(explain('plain text')).toEqual({ kind: 'failure', message: 'plain text' });
    expect(explain(undefined)).toEqual({ kind: 'failure', message: 'undefined' });
  });
});
