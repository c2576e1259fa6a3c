import { isHttpError } from '@eventkv/client';
import { isStorageBlockedError, isStorageFullError, isVersionMismatchError } from '@eventkv/core';
import { LedgerRuleError } from './domain';

/** What the demo tells a person about a failure: a sentence, and what kind it is. */
export interface Explanation {
  readonly kind: 'rule' | 'conflict' | 'unreachable' | 'failure';
  readonly message: string;
}

/** Turns any failure of a command or a read into a sentence for the page. */
export const explain = (error: unknown, endpoint?: string): Explanation => {
  if (error instanceof LedgerRuleError) return { kind: 'rule', message: error.message };
  if (isVersionMismatchError(error)) {
    const seen =
      typeof error.expected === 'number'
        ? `version ${error.expected}`
        : error.expected === 'no-stream'
          ? 'a new account'
          : 'an existing account';
    return {
      kind: 'conflict',
      message:
        `You acted on ${seen}, but the account is now at version ${error.actual}: someone ` +
        'else appended first. Nothing of your command was saved.',
    };
  }
  if (isHttpError(error)) {
    switch (error.code) {
      case 'NETWORK_FAILURE':
        return {
          kind: 'unreachable',
          message:
            `The endpoint${endpoint ? ` ${endpoint}` : ''} is unreachable. Is the Worker ` +
            'running (pnpm start)? Accounts in this browser keep working.',
        };
      case 'UNAUTHORIZED':
      case 'FORBIDDEN':
        return {
          kind: 'failure',
          message: `The endpoint refused the token (${error.code}): mint a new one and reconnect.`,
        };
      default:
        return { kind: 'failure', message: `The endpoint failed: ${error.message}` };
    }
  }
  if (isStorageFullError(error)) {
    return { kind: 'failure', message: 'This browser’s storage is full: nothing was saved.' };
  }
  if (isStorageBlockedError(error)) {
    return {
      kind: 'failure',
      message: 'Another tab holds an older version of the database open: close it and reload.',
    };
  }
  return { kind: 'failure', message: error instanceof Error ? error.message : String(error) };
};
