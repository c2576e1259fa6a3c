import { describe, expectTypeOf, it } from 'vitest';
import {
  type AppendResult,
  createEventStore,
  createMemoryKv,
  type EventStream,
  isVersionMismatchError,
  type RecordedEvent,
  type Session,
  type Snapshot,
} from '../src/index.js';

type BankEvent =
  | { type: 'Opened'; data: { owner: string } }
  | { type: 'Deposited'; data: { amount: number } }
  | { type: 'Closed' };

const store = createEventStore<BankEvent>({ kv: createMemoryKv() });
const stream = store.stream({ type: 'BankAccount', id: '1' });

describe('types users see', () => {
  it('a stream is typed by the event union', () => {
    expectTypeOf(stream).toEqualTypeOf<EventStream<BankEvent>>();
    expectTypeOf(store.open({ type: 'BankAccount', id: '1' })).resolves.toEqualTypeOf<
      Session<BankEvent>
    >();
  });

  it('append accepts members of the union, alone or in arrays, with metadata', () => {
    expectTypeOf(
      stream.append({ type: 'Deposited', data: { amount: 1 } }),
    ).resolves.toEqualTypeOf<AppendResult>();
    void stream.append(
      [
        { type: 'Opened', data: { owner: 'x' } },
        { type: 'Closed', metadata: { userId: 'u' } },
      ],
      {
        expectedVersion: 'no-stream',
      },
    );
  });

  it('append rejects events outside the union and wrong payloads', () => {
    // @ts-expect-error: not a member of the union
    void stream.append({ type: 'Withdrawn', data: { amount: 1 } });
    // @ts-expect-error: payload of another member
    void stream.append({ type: 'Deposited', data: { owner: 'x' } });
    // @ts-expect-error: unknown metadata field
    void stream.append({ type: 'Closed', metadata: { tenant: 't' } });
    // @ts-expect-error: not an expected version
    void stream.append({ type: 'Closed' }, { expectedVersion: 'latest' });
  });

  it('narrowing a recorded event on type narrows its data', async () => {
    const [event] = await stream.read();
    if (event?.type === 'Deposited') expectTypeOf(event.data).toEqualTypeOf<{ amount: number }>();
    if (event?.type === 'Closed') {
      // @ts-expect-error: Closed has no data
      void event.data;
    }
    expectTypeOf(event!.version).toBeNumber();
    expectTypeOf(event!.metadata.messageId).toBeString();
    expectTypeOf(event!).toExtend<RecordedEvent<BankEvent>>();
  });

  it('snapshots carry the state type asked for', async () => {
    expectTypeOf(stream.latestSnapshot<{ balance: number }>()).resolves.toEqualTypeOf<
      Snapshot<{ balance: number }> | undefined
    >();
    const loaded = await stream.load<number>();
    expectTypeOf(loaded.snapshot).toEqualTypeOf<Snapshot<number> | undefined>();
    expectTypeOf(loaded.events).toEqualTypeOf<RecordedEvent<BankEvent>[]>();
  });

  it('queries are typed by the union', async () => {
    const page = await store.query('eventType', 'Deposited');
    expectTypeOf(page.events).toEqualTypeOf<RecordedEvent<BankEvent>[]>();
    // @ts-expect-error: not an index
    void store.query('payload', 'x');
  });

  it('error guards narrow to the error class with its fields', () => {
    const error: unknown = new Error();
    if (isVersionMismatchError(error)) {
      expectTypeOf(error.actual).toBeNumber();
      expectTypeOf(error.code).toEqualTypeOf<'VERSION_MISMATCH'>();
    }
  });

  it('a session is disposable with await using', () => {
    expectTypeOf<Session<BankEvent>>().toExtend<AsyncDisposable>();
  });
});
