import type { EventStore } from '@eventkv/core';
import { describe, expectTypeOf, it } from 'vitest';
import { createHttpEventStore, type HttpError, isHttpError } from '../src/index';

type BankEvent = { type: 'Deposited'; data: { amount: bigint } } | { type: 'Closed' };

describe('createHttpEventStore types', () => {
  it('is the store API of the event union', () => {
    const store = createHttpEventStore<BankEvent>('https://api.example', { token: 't' });
    expectTypeOf(store).toEqualTypeOf<EventStore<BankEvent>>();
    const stream = store.stream({ type: 'Account', id: '1' });
    void stream.append({ type: 'Deposited', data: { amount: 1n } });
    // @ts-expect-error an event that is not in the union
    void stream.append({ type: 'Withdrawn', data: { amount: 1n } });
    // @ts-expect-error a payload of the wrong shape
    void stream.append({ type: 'Deposited', data: { amount: 'ten' } });
    // @ts-expect-error the token is required
    createHttpEventStore<BankEvent>('https://api.example', {});
  });

  it('narrows errors with isHttpError', () => {
    const error: unknown = new Error('x');
    if (isHttpError(error)) expectTypeOf(error).toEqualTypeOf<HttpError>();
  });
});
