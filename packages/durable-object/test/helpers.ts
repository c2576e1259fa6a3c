import type { StreamRef } from '@eventkv/core';

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

/** Awaits an operation that must fail and returns its error. */
export const failure = async (op: Promise<unknown> | (() => unknown)): Promise<unknown> => {
  try {
    await (typeof op === 'function' ? op() : op);
  } catch (error) {
    return error;
  }
  throw new Error('expected the operation to fail, but it succeeded');
};
