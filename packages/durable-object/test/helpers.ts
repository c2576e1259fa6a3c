import type { StreamRef } from '@eventkv/core';
import { expect } from 'vitest';
import { type RpcResult, unwrapResult } from '../src/index.js';

export type BankEvent =
  | { type: 'AccountOpened'; data: { owner: string; openedAt: Date } }
  | { type: 'Deposited'; data: { amount: number } }
  | { type: 'Withdrawn'; data: { amount: number } };

export const deposit = (amount: number, messageId?: string) =>
  messageId === undefined
    ? { type: 'Deposited' as const, data: { amount } }
    : { type: 'Deposited' as const, data: { amount }, metadata: { messageId } };

/** A stream no other test touches (storage outlives a single test). */
export const uniqueRef = (database?: string): StreamRef => ({
  ...(database === undefined ? {} : { database }),
  type: 'BankAccount',
  id: crypto.randomUUID(),
});

export { failure } from '@eventkv/core/conformance';

/**
 * Makes the call (a wait of 1 ms) until the object refuses it, and returns the error: with
 * its waits' bound reached, each pending wait reads its head before it registers, so the
 * first extra calls may still get in (and answer at their 1 ms timeout).
 */
export const refusedOnceFull = async (call: () => Promise<RpcResult<unknown>>) => {
  let refused: unknown;
  const oneMore = async () => {
    try {
      unwrapResult(await call());
    } catch (error) {
      refused = error;
    }
    return refused !== undefined;
  };
  await expect.poll(oneMore, { timeout: 10_000 }).toBe(true);
  return refused;
};
