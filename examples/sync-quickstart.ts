import { createMemoryKv } from '@eventkv/core';
import { createReplica } from '@eventkv/core/replica';
import { createEdgeRemote, createSyncEdge, createSyncedStore } from '@eventkv/sync';

type AccountEvent =
  | { type: 'Deposited'; data: { amount: number } }
  | { type: 'Withdrawn'; data: { amount: number } };

// 1. The edge: in a Worker it is the database's Durable Object; here, in process.
const edge = createSyncEdge({ replica: createReplica({ kv: createMemoryKv() }) });
const remote = (user: string) => createEdgeRemote(edge, { database: 'acme', user });

// 2. Two devices, each with a local store (IndexedDB in a browser: createIndexedDbKv).
const phone = createSyncedStore<AccountEvent>({ kv: createMemoryKv(), remote: remote('joe') });
const laptop = createSyncedStore<AccountEvent>({ kv: createMemoryKv(), remote: remote('joe') });
const account = { type: 'Account', id: '42' };
const balance = (events: readonly AccountEvent[]) =>
  events.reduce((sum, e) => sum + (e.type === 'Deposited' ? e.data.amount : -e.data.amount), 0);

// 3. Offline, both append at version 0: the events wait in each device's outbox.
await phone
  .stream(account)
  .append({ type: 'Deposited', data: { amount: 100 } }, { expectedVersion: 0 });
await laptop
  .stream(account)
  .append(
    { type: 'Withdrawn', data: { amount: 30 } },
    { expectedVersion: 0, command: { withdraw: 30 } },
  );
const pending = await phone.stream(account).read();
console.log(
  `phone: ${pending.map((e) => `v${e.version} ${e.type} ${e.confirmed ? 'confirmed' : 'pending'}`)}`,
);

// 4. Back online: the phone's events are accepted; the laptop's conflict with them.
laptop.sync.on((event) => {
  if (event.type === 'conflict') console.log(`laptop: conflict on ${event.conflict.ref.id}`);
});
await phone.sync.syncNow();
await laptop.sync.syncNow();

// 5. The app re-decides the command on the edge's state: the withdrawal still fits.
await laptop.sync.resolve(account, {
  rebase: ({ theirs, commands }) => {
    const { withdraw } = commands[0] as { withdraw: number };
    return balance(theirs) >= withdraw ? [{ type: 'Withdrawn', data: { amount: withdraw } }] : [];
  },
});
await laptop.sync.syncNow();
await phone.sync.syncNow();

// 6. Both devices hold the edge's history.
for (const [name, store] of [
  ['phone', phone],
  ['laptop', laptop],
] as const) {
  const events = await store.stream(account).read();
  console.log(
    `${name}: ${events.map((e) => `v${e.version} ${e.type}`).join(', ')}; balance ${balance(events)}`,
  );
}
console.log(`pending: ${(await laptop.sync.status()).pending}`);
