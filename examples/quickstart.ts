import {
  createEventStore,
  createMemoryKv,
  isVersionMismatchError,
  type RecordedEvent,
} from '@eventkv/core';

// 1. Your events: one discriminated union.
type BankAccountEvent =
  | { type: 'BankAccountCreated'; data: { owner: string; currency: string } }
  | { type: 'FundsDeposited'; data: { amount: number } }
  | { type: 'FundsWithdrawn'; data: { amount: number } };

// 2. A store over a key-value backend: memory here; IndexedDB and Durable Objects plug in the same way.
const store = createEventStore<BankAccountEvent>({ kv: createMemoryKv() });
const account = { type: 'BankAccount', id: '123456000' };

// 3. Write in an exclusive session; `await using` closes it (and releases its lease).
{
  await using session = await store.open(account);
  await session.append(
    [
      { type: 'BankAccountCreated', data: { owner: 'Joe Dalton', currency: 'EUR' } },
      { type: 'FundsDeposited', data: { amount: 1500 }, metadata: { userId: 'joe' } },
    ],
    { expectedVersion: 'no-stream' },
  );
  await session.append({
    type: 'FundsWithdrawn',
    data: { amount: 500 },
    metadata: { userId: 'joe' },
  });
}

// 4. Rebuild the state by replaying the history.
const apply = (balance: number, event: RecordedEvent<BankAccountEvent>): number => {
  switch (event.type) {
    case 'BankAccountCreated':
      return 0;
    case 'FundsDeposited':
      return balance + event.data.amount;
    case 'FundsWithdrawn':
      return balance - event.data.amount;
  }
};
const stream = store.stream(account);
const history = await stream.read();
for (const event of history) {
  console.log(`v${event.version} ${event.type} ${JSON.stringify(event.data)}`);
}
const balance = history.reduce(apply, 0);
console.log(`balance: ${balance} EUR at version ${await stream.version()}`);

// 5. Optimistic concurrency: an append based on a stale version is refused.
try {
  await stream.append({ type: 'FundsWithdrawn', data: { amount: 2000 } }, { expectedVersion: 1 });
} catch (error) {
  if (!isVersionMismatchError(error)) throw error;
  console.log(`conflict: expected version ${error.expected}, actual ${error.actual}`);
}

// 6. Snapshots: load = latest snapshot + the events after it.
await stream.saveSnapshot(3, balance);
await stream.append({ type: 'FundsDeposited', data: { amount: 250 } }, { expectedVersion: 3 });
const { snapshot, events } = await stream.load<number>();
console.log(`snapshot at v${snapshot?.version}, ${events.length} event(s) after it`);
console.log(`balance: ${events.reduce(apply, snapshot?.state ?? 0)} EUR`);

// 7. Who did what: events of the database by user.
const byJoe = await store.query('user', 'joe');
console.log(`joe: ${byJoe.events.map((e) => e.type).join(', ')}`);
