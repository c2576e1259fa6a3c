import { describe, expect, it } from 'vitest';
import {
  DuplicateIdempotencyIdError,
  EventKvError,
  IdempotencyIdNotFoundError,
  InvalidArgumentError,
  isEventKvError,
  isInvalidArgumentError,
  isVersionMismatchError,
  SnapshotVersionNotFoundError,
  VersionMismatchError,
  VersionNotFoundError,
} from '../errors.js';
import type { EventStore } from '../store.js';
import type { EventStream } from '../stream.js';
import {
  type BankEvent,
  caught,
  deposit,
  failure,
  REF,
  type StoreConformanceOptions,
  type StoreHarness,
} from './harness.js';

type Class = abstract new (...args: never[]) => EventKvError;

/** An operation that must fail, on a stream holding deposits 1 and 2 (message ids m-1, m-2). */
type Refusal = readonly [
  name: string,
  run: (stream: EventStream<BankEvent>) => Promise<unknown>,
  kind: Class,
  fields: Record<string, unknown>,
];

const REFUSALS: readonly Refusal[] = [
  [
    'an append at a stale version',
    (s) => s.append(deposit(3), { expectedVersion: 1 }),
    VersionMismatchError,
    { code: 'VERSION_MISMATCH', expected: 1, actual: 2 },
  ],
  [
    'a message id used before',
    (s) => s.append([deposit(3, { messageId: 'm-3' }), deposit(4, { messageId: 'm-1' })]),
    DuplicateIdempotencyIdError,
    { code: 'DUPLICATE_IDEMPOTENCY_ID', messageId: 'm-1', existingVersion: 1 },
  ],
  [
    'an unknown message id',
    (s) => s.versionOf('m-9'),
    IdempotencyIdNotFoundError,
    { code: 'IDEMPOTENCY_ID_NOT_FOUND', messageId: 'm-9' },
  ],
  [
    'a snapshot past the head',
    (s) => s.saveSnapshot(3, {}),
    VersionNotFoundError,
    { code: 'VERSION_NOT_FOUND', version: 3, currentVersion: 2 },
  ],
  [
    'a missing snapshot',
    (s) => s.snapshotAt(2),
    SnapshotVersionNotFoundError,
    { code: 'SNAPSHOT_VERSION_NOT_FOUND', version: 2 },
  ],
];

/** Bad input: the call, and the field the error must name. */
type BadInput = readonly [
  what: string,
  run: (store: EventStore<BankEvent>) => unknown,
  field: string,
];

const s = (store: EventStore<BankEvent>) => store.stream(REF);
const anyEvent = (event: unknown) => event as ReturnType<typeof deposit>;

const BAD_INPUT: readonly BadInput[] = [
  ['an empty list of events', (st) => s(st).append([]), 'events'],
  ['an event that is not an object', (st) => s(st).append(anyEvent(42)), 'events[0]'],
  ['an event without a type', (st) => s(st).append(anyEvent({ data: 1 })), 'events[0].type'],
  ['an empty event type', (st) => s(st).append(anyEvent({ type: '' })), 'events[0].type'],
  [
    'an unknown event property',
    (st) => s(st).append(anyEvent({ type: 'Deposited', data: { amount: 1 }, extra: 1 })),
    'events[0].extra',
  ],
  [
    'a bad second event of a batch',
    (st) => s(st).append([deposit(1), anyEvent({ type: 'Deposited', metadata: 'x' })]),
    'events[1].metadata',
  ],
  [
    'an empty message id',
    (st) => s(st).append(deposit(1, { messageId: '' })),
    'events[0].metadata.messageId',
  ],
  [
    'a user id with a control character',
    (st) => s(st).append(deposit(1, { userId: 'a\u0000b' })),
    'events[0].metadata.userId',
  ],
  [
    'a schema version of 0',
    (st) =>
      s(st).append(
        anyEvent({ type: 'Deposited', data: { amount: 1 }, metadata: { schemaVersion: 0 } }),
      ),
    'events[0].metadata.schemaVersion',
  ],
  [
    'an unknown metadata property',
    (st) => s(st).append(anyEvent({ type: 'Deposited', metadata: { tenant: 'x' } })),
    'events[0].metadata.tenant',
  ],
  [
    'a negative expected version',
    (st) => s(st).append(deposit(1), { expectedVersion: -1 }),
    'expectedVersion',
  ],
  [
    'an expected version that is no keyword',
    (st) => s(st).append(deposit(1), { expectedVersion: 'later' as 'any' }),
    'expectedVersion',
  ],
  ['an empty stream type', (st) => st.stream({ type: '', id: '1' }).append(deposit(1)), 'ref.type'],
  [
    'a stream id with a control character',
    (st) => st.stream({ type: 'T', id: 'a\nb' }).append(deposit(1)),
    'ref.id',
  ],
  [
    'a stream id of 257 characters',
    (st) => st.stream({ type: 'T', id: 'x'.repeat(257) }).append(deposit(1)),
    'ref.id',
  ],
  [
    'an empty database',
    (st) => st.stream({ database: '', type: 'T', id: '1' }).append(deposit(1)),
    'ref.database',
  ],
  ['reading from version 0', (st) => s(st).read({ from: 0 }), 'options.from'],
  ['reading from after to', (st) => s(st).read({ from: 5, to: 3 }), 'options.from'],
  ['reading a limit of 0', (st) => s(st).read({ limit: 0 }), 'options.limit'],
  ['reading a fractional limit', (st) => s(st).read({ limit: 2.5 }), 'options.limit'],
  ['reading from a negative version', (st) => s(st).read({ from: -1 }), 'options.from'],
  [
    'reading in no direction',
    (st) => s(st).read({ direction: 'sideways' as 'forward' }),
    'options.direction',
  ],
  ['versionOf an empty id', (st) => s(st).versionOf(''), 'messageId'],
  ['a snapshot at version 0', (st) => s(st).saveSnapshot(0, {}), 'version'],
  ['a snapshot at a fractional version', (st) => s(st).saveSnapshot(1.5, {}), 'version'],
  ['snapshotAt version -1', (st) => s(st).snapshotAt(-1), 'version'],
  ['deleting the snapshot at version 0', (st) => s(st).deleteSnapshot(0), 'version'],
];

/**
 * Errors as callers see them, whichever side of a boundary the store runs on: instances
 * of core's classes, matched by their guards, with every context field; bad input refused
 * as INVALID_ARGUMENT naming the field, before anything is written.
 */
export const errorTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  describe('errors', () => {
    for (const [name, run, kind, fields] of REFUSALS) {
      it(`${name}: a ${kind.name} with its code and fields`, async () => {
        const store = await h.store();
        const stream = store.stream(REF);
        await stream.append([deposit(1, { messageId: 'm-1' }), deposit(2, { messageId: 'm-2' })]);
        await stream.saveSnapshot(1, { balance: 1 });
        const error = await failure(run(stream));
        expect(error).toBeInstanceOf(kind);
        expect(error).toBeInstanceOf(EventKvError);
        expect(isEventKvError(error)).toBe(true);
        expect(error).toMatchObject({ ...fields, stream: stream.ref });
        expect(typeof (error as Error).message).toBe('string');
        expect((error as Error).message.length).toBeGreaterThan(0);
        expect(await stream.version()).toBe(2);
      });
    }

    it('a version mismatch is matched by isVersionMismatchError and carries actual', async () => {
      const store = await h.store();
      const stream = store.stream(REF);
      await stream.append(deposit(1));
      try {
        await stream.append(deposit(2), { expectedVersion: 'no-stream' });
        expect.unreachable('the append should have failed');
      } catch (error) {
        if (!isVersionMismatchError(error)) throw error;
        expect(error.actual).toBe(1);
        expect(error.expected).toBe('no-stream');
      }
    });

    describe('bad input is INVALID_ARGUMENT naming the field, and nothing is written', () => {
      for (const [what, run, field] of BAD_INPUT) {
        it(`${what} -> ${field}`, async () => {
          const store = await h.store();
          const error = await caught<InvalidArgumentError>(
            () => run(store),
            isInvalidArgumentError,
          );
          expect(error).toBeInstanceOf(InvalidArgumentError);
          expect(error.field).toBe(field);
          expect(typeof error.reason).toBe('string');
          expect(await store.stream(REF).version()).toBe(0);
          expect(await store.stream(REF).snapshotVersions()).toEqual([]);
          if (h.capabilities.readLog) expect((await store.readLog()).events).toEqual([]);
          // No lease was taken either.
          const session = await store.open(REF, { openTimeoutMs: 0 });
          await session.close();
        });
      }
    });
  });
};
