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

export { failure } from '@eventkv/core/conformance';
