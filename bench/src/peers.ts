import { type EventDetail, EventStore, EventType } from '@castore/core';
import { InMemoryEventStorageAdapter } from '@castore/event-storage-adapter-in-memory';
import { type Event, getInMemoryEventStore } from '@event-driven-io/emmett';
import {
  type AccountState,
  type BenchStore,
  type Deposit,
  type DepositData,
  type DepositMetadata,
  foldDeposits,
  makeDeposits,
  type Subject,
} from './subject.js';

/**
 * The in-memory stores of two peers, driven through their public APIs. Neither keeps
 * snapshots (W5 load is n/a). Neither has a version-only read: Emmett's comes from
 * `readStream` with `maxCount: 1n`, Castore's from the last event (`reverse`, `limit: 1`).
 */

type EmmettDeposit = Event<'Deposited', DepositData, DepositMetadata>;

/** Emmett: `from` is a 0-based index and `to` an exclusive one in its in-memory store. */
const emmettStore = (): BenchStore => {
  const store = getInMemoryEventStore();
  return {
    async append(stream, events, expected) {
      // Emmett only reads the array; the cast spares it a copy.
      const list = events as EmmettDeposit[];
      await store.appendToStream(stream, list, { expectedStreamVersion: BigInt(expected) });
    },
    async read(stream, from = 1, to) {
      const result = await store.readStream<EmmettDeposit>(stream, {
        from: BigInt(from - 1),
        ...(to === undefined ? {} : { to: BigInt(to) }),
      });
      return result.events.length;
    },
    async version(stream) {
      const result = await store.readStream(stream, { maxCount: 1n });
      return Number(result.currentStreamVersion);
    },
    async replay(stream) {
      return foldDeposits(undefined, (await store.readStream<EmmettDeposit>(stream)).events);
    },
  };
};

export const emmett: Subject = { name: 'Emmett', create: emmettStore };

type DepositDetail = EventDetail<'Deposited', DepositData, DepositMetadata>;

const deposited = new EventType<'Deposited', DepositData, DepositMetadata>({
  type: 'Deposited',
});

/** Castore's optimistic concurrency: pushing a version that exists fails. */
const castoreStore = (initialEvents: DepositDetail[] = []): BenchStore => {
  const store = new EventStore({
    eventStoreId: 'accounts',
    eventTypes: [deposited],
    reducer: (_: unknown, event: DepositDetail) => ({
      aggregateId: event.aggregateId,
      version: event.version,
    }),
    eventStorageAdapter: new InMemoryEventStorageAdapter({ initialEvents }),
  });
  const detail = (aggregateId: string, event: Deposit, version: number) => ({
    aggregateId,
    version,
    type: event.type,
    payload: event.data,
    metadata: event.metadata,
  });
  const fold = (events: readonly DepositDetail[]): AccountState => {
    let balance = 0;
    for (const event of events) balance += event.payload.amount;
    return { balance, count: events.length };
  };
  return {
    async append(stream, events, expected) {
      if (events.length === 1) {
        await store.pushEvent(detail(stream, events[0]!, expected + 1));
        return;
      }
      const [first, second, ...rest] = events.map((event, i) =>
        store.groupEvent(detail(stream, event, expected + 1 + i)),
      );
      await EventStore.pushEventGroup(first!, second!, ...rest);
    },
    async read(stream, from, to) {
      const { events } = await store.getEvents(stream, {
        ...(from === undefined ? {} : { minVersion: from }),
        ...(to === undefined ? {} : { maxVersion: to }),
      });
      return events.length;
    },
    async version(stream) {
      const { events } = await store.getEvents(stream, { reverse: true, limit: 1 });
      return events[0]?.version ?? 0;
    },
    async replay(stream) {
      return fold((await store.getEvents(stream)).events);
    },
  };
};

/**
 * Seeds through the adapter's `initialEvents`: pushing one by one costs O(n) per event
 * in Castore's in-memory adapter (it scans for the version), too slow for 100k events.
 */
const seedCastore = async (streams: readonly (readonly [string, number])[]) => {
  const timestamp = new Date().toISOString();
  const initial = streams.flatMap(([aggregateId, count]) =>
    makeDeposits(count).map(
      (event, i): DepositDetail => ({
        aggregateId,
        version: i + 1,
        type: event.type,
        timestamp,
        payload: event.data,
        metadata: event.metadata,
      }),
    ),
  );
  return castoreStore(initial);
};

export const castore: Subject = {
  name: 'Castore',
  create: () => castoreStore(),
  seed: seedCastore,
};
