import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DuplicateIdempotencyIdError,
  IdempotencyIdNotFoundError,
  isDuplicateIdempotencyIdError,
  isIdempotencyIdNotFoundError,
  isInvalidArgumentError,
  isStorageError,
  StorageError,
} from '../errors.js';
import { kvScan } from '../kv/access.js';
import type { EventStore } from '../store.js';
import { createFaultyKv, InjectedFault } from '../testing/faulty-kv.js';
import type { AppendResult, ExpectedVersion } from '../types.js';
import {
  type BankEvent,
  type ConformanceOptions,
  deposit,
  failure,
  type Harness,
  recordingLogger,
  useHarness,
} from './harness.js';

const account = { type: 'BankAccount', id: 'acc-1' } as const;

/** Everything the backend holds: "wrote nothing" means this did not change. */
/** Everything stored: records by key, then the index keys that find them. */
const dump = async (h: Harness) => [
  ...(await kvScan(h.kv, {})),
  ...(await kvScan(h.kv, { by: 'index' })),
];

const ids = async (store: EventStore<BankEvent>) =>
  (await store.stream(account).read()).map((e) => e.metadata.messageId);

export const idempotencyTests = (options: ConformanceOptions): void => {
  describe('idempotency', () => {
    const setup = useHarness(options);
    const scale = options.propertyRunScale ?? 1;

    describe('message ids', () => {
      it("gives every event a message id: the caller's, or a generated one", async () => {
        const h = await setup();
        const stream = h.store().stream(account);
        await stream.append([deposit(1), deposit(2, { messageId: 'm-2' }), deposit(3)]);

        const events = await stream.read();
        const messageIds = events.map((e) => e.metadata.messageId);
        expect(messageIds[1]).toBe('m-2');
        for (const id of messageIds) {
          expect(typeof id).toBe('string');
          expect(id.length).toBeGreaterThan(0);
        }
        expect(new Set(messageIds).size).toBe(3);
        for (const event of events) {
          expect(await stream.versionOf(event.metadata.messageId)).toBe(event.version);
        }
      });

      it('looks up versions by message id from a store created later', async () => {
        const h = await setup();
        await h
          .store()
          .stream(account)
          .append([deposit(1, { messageId: 'a' }), deposit(2)]);
        await h
          .store()
          .stream(account)
          .append(deposit(3, { messageId: 'c' }));

        const reopened = h.store().stream(account);
        expect(await reopened.versionOf('a')).toBe(1);
        expect(await reopened.versionOf('c')).toBe(3);
      });

      it('fails with IdempotencyIdNotFoundError for an unknown message id', async () => {
        const h = await setup();
        const store = h.store();
        await store.stream(account).append(deposit(1, { messageId: 'known' }));
        await store.stream({ ...account, id: 'acc-2' }).append(deposit(1, { messageId: 'other' }));

        for (const [ref, messageId] of [
          [account, 'unknown'],
          [account, 'other'],
          [{ ...account, id: 'never-written' }, 'known'],
        ] as const) {
          const error = await failure(() => store.stream(ref).versionOf(messageId));
          expect(error).toBeInstanceOf(IdempotencyIdNotFoundError);
          expect(isIdempotencyIdNotFoundError(error)).toBe(true);
          expect(error).toMatchObject({
            code: 'IDEMPOTENCY_ID_NOT_FOUND',
            messageId,
            stream: { database: 'default', ...ref },
          });
          expect((error as Error).message).toContain(messageId);
        }
      });

      it('rejects an invalid message id (INVALID_ARGUMENT) in lookups and appends', async () => {
        const h = await setup();
        const stream = h.store().stream(account);
        await expect(stream.versionOf('')).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
          field: 'messageId',
        });
        await expect(stream.append(deposit(1, { messageId: 'bad\nid' }))).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
          field: 'events[0].metadata.messageId',
        });
        expect(await dump(h)).toEqual([]);
      });

      it('scopes message ids to their stream: the same id is fine in other streams', async () => {
        const h = await setup();
        const store = h.store();
        const refs = [
          account,
          { ...account, id: 'acc-2' },
          { type: 'Ledger', id: 'acc-1' },
          { ...account, database: 'tenant-b' },
        ];
        for (const ref of refs) {
          const result = await store.stream(ref).append(deposit(1, { messageId: 'shared' }));
          expect(result).toMatchObject({ version: 1, firstVersion: 1, deduplicated: false });
        }
        for (const ref of refs) {
          const stream = store.stream(ref);
          expect(await stream.versionOf('shared')).toBe(1);
          expect((await stream.read()).map((e) => e.metadata.messageId)).toEqual(['shared']);
        }
      });
    });

    describe('retries', () => {
      const cases: {
        name: string;
        before: number;
        expectedVersion: ExpectedVersion | undefined;
      }[] = [
        { name: 'an exact expected version', before: 2, expectedVersion: 2 },
        { name: "expected version 'no-stream'", before: 0, expectedVersion: 'no-stream' },
        { name: 'expected version 0', before: 0, expectedVersion: 0 },
        { name: "expected version 'any'", before: 1, expectedVersion: 'any' },
        { name: 'no expected version', before: 1, expectedVersion: undefined },
        { name: "expected version 'exists'", before: 1, expectedVersion: 'exists' },
      ];

      for (const { name, before, expectedVersion } of cases) {
        it(`a retry with ${name}: same result, deduplicated, nothing written`, async () => {
          const h = await setup();
          const stream = h.store().stream(account);
          for (let i = 0; i < before; i++) await stream.append(deposit(i));
          const batch = [deposit(10, { messageId: 'a' }), deposit(20, { messageId: 'b' })];
          const appendOptions = expectedVersion === undefined ? undefined : { expectedVersion };

          const first = await stream.append(batch, appendOptions);
          expect(first).toEqual({
            version: before + 2,
            firstVersion: before + 1,
            position: before + 2,
            deduplicated: false,
          });
          const stored = await dump(h);
          h.clock.advance(1000);

          const retry = await stream.append(batch, appendOptions);
          expect(retry).toEqual({ ...first, deduplicated: true });
          expect(await dump(h)).toEqual(stored);
          expect(await stream.version()).toBe(before + 2);
          expect((await h.store().readLog()).events).toHaveLength(before + 2);
        });
      }

      it('a retry at expected version 0 deduplicates after the stream moved on', async () => {
        const h = await setup();
        const store = h.store();
        const stream = store.stream(account);
        const batch = [deposit(1, { messageId: 'a' }), deposit(2, { messageId: 'b' })];
        const first = await stream.append(batch, { expectedVersion: 0 });
        await stream.append(deposit(3), { expectedVersion: 2 });
        await stream.append(deposit(4));
        const stored = await dump(h);

        const retry = await stream.append(batch, { expectedVersion: 0 });
        expect(retry).toEqual({ version: 2, firstVersion: 1, position: 2, deduplicated: true });
        expect(retry).toEqual({ ...first, deduplicated: true });
        expect(await stream.version()).toBe(4);
        expect(await dump(h)).toEqual(stored);
      });

      it("a retry with 'any' of an append in the middle of the stream deduplicates", async () => {
        const h = await setup();
        const stream = h.store().stream(account);
        await stream.append(deposit(1));
        const batch = [deposit(2, { messageId: 'b' }), deposit(3, { messageId: 'c' })];
        const first = await stream.append(batch);
        await stream.append(deposit(4));
        const stored = await dump(h);

        expect(await stream.append(batch, { expectedVersion: 'any' })).toEqual({
          ...first,
          deduplicated: true,
        });
        expect(first).toMatchObject({ version: 3, firstVersion: 2 });
        expect(await dump(h)).toEqual(stored);
      });

      it('a retry through a later session deduplicates (crash after commit)', async () => {
        const h = await setup();
        const store = h.store();
        const batch = [deposit(1, { messageId: 'a' }), deposit(2, { messageId: 'b' })];
        const crashed = await store.open(account);
        const first = await crashed.append(batch, { expectedVersion: 0 });
        await crashed.close();
        const stored = await dump(h);

        const next = await store.open(account);
        expect(await next.append(batch, { expectedVersion: 0 })).toEqual({
          ...first,
          deduplicated: true,
        });
        expect(await next.version()).toBe(2);
        await next.close();
        // Only the lease changed hands; no event, log or index entry was added.
        const withoutLeases = (entries: Awaited<ReturnType<typeof dump>>) =>
          entries.filter((e) => !e.key.includes('/l/'));
        expect(withoutLeases(await dump(h))).toEqual(withoutLeases(stored));
      });

      it('every append of any history retries to its original result', async () => {
        const expectation = fc.constantFrom<'exact' | 'any' | 'exists' | 'none'>(
          'exact',
          'any',
          'exists',
          'none',
        );
        const history = fc.array(fc.record({ size: fc.integer({ min: 1, max: 4 }), expectation }), {
          minLength: 1,
          maxLength: 6,
        });
        // Each run retries every append of a random history (batch sizes, every form of
        // expected version), in a random order: 40 runs check a few hundred retries, far
        // more combinations of position, batch size and expectation than the cases above.
        await fc.assert(
          fc.asyncProperty(
            history,
            fc.array(fc.nat(), { maxLength: 12 }),
            async (appends, order) => {
              const h = await setup();
              const stream = h.store().stream(account);
              const done: {
                batch: ReturnType<typeof deposit>[];
                opts: object;
                result: AppendResult;
              }[] = [];
              let version = 0;
              for (const [n, { size, expectation: kind }] of appends.entries()) {
                const batch = Array.from({ length: size }, (_, i) =>
                  deposit(i, { messageId: `m${n}.${i}` }),
                );
                const expectedVersion: ExpectedVersion | undefined =
                  kind === 'exact'
                    ? version
                    : kind === 'none'
                      ? undefined
                      : kind === 'exists' && version === 0
                        ? 'no-stream'
                        : kind;
                const opts = expectedVersion === undefined ? {} : { expectedVersion };
                const result = await stream.append(batch, opts);
                version += size;
                done.push({ batch, opts, result });
              }
              const stored = await dump(h);
              const retries = order.length === 0 ? done.map((_, i) => i) : order;
              for (const pick of retries) {
                const { batch, opts, result } = done[pick % done.length]!;
                expect(await stream.append(batch, opts)).toEqual({ ...result, deduplicated: true });
              }
              expect(await dump(h)).toEqual(stored);
            },
          ),
          { numRuns: Math.max(1, Math.round(40 * scale)) },
        );
      });
    });

    describe('clashing message ids', () => {
      /** Stream with a@1, b@2 (one append) and c@3. */
      const seeded = async () => {
        const h = await setup();
        const stream = h.store().stream(account);
        await stream.append([deposit(1, { messageId: 'a' }), deposit(2, { messageId: 'b' })]);
        await stream.append(deposit(3, { messageId: 'c' }));
        return { h, stream, stored: await dump(h) };
      };

      const cases: {
        name: string;
        messageIds: string[];
        expectedVersion: ExpectedVersion | undefined;
        clash: { messageId: string; existingVersion: number };
      }[] = [
        {
          name: 'an id reused at a later exact version',
          messageIds: ['a'],
          expectedVersion: 3,
          clash: { messageId: 'a', existingVersion: 1 },
        },
        {
          name: "an id reused at version 1 with 'no-stream'",
          messageIds: ['b'],
          expectedVersion: 'no-stream',
          clash: { messageId: 'b', existingVersion: 2 },
        },
        {
          name: 'an id reused at the wrong earlier version',
          messageIds: ['c'],
          expectedVersion: 1,
          clash: { messageId: 'c', existingVersion: 3 },
        },
        {
          name: 'a new id followed by a used one',
          messageIds: ['new', 'c'],
          expectedVersion: 'any',
          clash: { messageId: 'c', existingVersion: 3 },
        },
        {
          name: 'a used id followed by a new one',
          messageIds: ['c', 'new'],
          expectedVersion: undefined,
          clash: { messageId: 'c', existingVersion: 3 },
        },
        {
          name: 'a retried batch extended with a new event',
          messageIds: ['a', 'b', 'new'],
          expectedVersion: 0,
          clash: { messageId: 'a', existingVersion: 1 },
        },
      ];

      for (const { name, messageIds, expectedVersion, clash } of cases) {
        it(`${name} fails with DuplicateIdempotencyIdError and writes nothing`, async () => {
          const { h, stream, stored } = await seeded();
          const batch = messageIds.map((messageId, i) => deposit(100 + i, { messageId }));
          const error = await failure(() =>
            stream.append(batch, expectedVersion === undefined ? undefined : { expectedVersion }),
          );
          expect(error).toBeInstanceOf(DuplicateIdempotencyIdError);
          expect(isDuplicateIdempotencyIdError(error)).toBe(true);
          expect(error).toMatchObject({
            code: 'DUPLICATE_IDEMPOTENCY_ID',
            stream: { database: 'default', ...account },
            ...clash,
          });
          expect((error as Error).message).toContain(clash.messageId);
          expect(await dump(h)).toEqual(stored);
          expect(await stream.version()).toBe(3);
        });
      }

      it('a batch reordering used ids fails with DUPLICATE_IDEMPOTENCY_ID', async () => {
        const { h, stream, stored } = await seeded();
        const error = await failure(() =>
          stream.append([deposit(2, { messageId: 'b' }), deposit(1, { messageId: 'a' })]),
        );
        expect(isDuplicateIdempotencyIdError(error)).toBe(true);
        const { messageId, existingVersion } = error as DuplicateIdempotencyIdError;
        expect(['a', 'b']).toContain(messageId);
        expect(existingVersion).toBe(await stream.versionOf(messageId));
        expect(await dump(h)).toEqual(stored);
      });

      it('the same id twice in one append is INVALID_ARGUMENT on the second', async () => {
        const { h, stream, stored } = await seeded();
        const error = await failure(() =>
          stream.append([
            deposit(1, { messageId: 'x' }),
            deposit(2, { messageId: 'y' }),
            deposit(3, { messageId: 'x' }),
          ]),
        );
        expect(isInvalidArgumentError(error)).toBe(true);
        expect(error).toMatchObject({
          code: 'INVALID_ARGUMENT',
          field: 'events[2].metadata.messageId',
        });
        expect(await dump(h)).toEqual(stored);
      });
    });

    describe('retries after storage faults', () => {
      const batch = [deposit(10, { messageId: 'a' }), deposit(20, { messageId: 'b' })];

      /** A store over a KV that fails on demand, with one event (m0) already stored. */
      const faultySetup = async () => {
        const h = await setup();
        const faulty = createFaultyKv(h.kv);
        const store = h.store({ kv: faulty });
        await store.stream(account).append(deposit(1, { messageId: 'm0' }));
        return { h, faulty, store, stream: store.stream(account) };
      };

      const expectStoredOnce = async (store: EventStore<BankEvent>) => {
        expect(await ids(store)).toEqual(['m0', 'a', 'b']);
        expect((await store.readLog()).events.map((e) => e.position)).toEqual([1, 2, 3]);
        expect(await store.stream(account).versionOf('b')).toBe(3);
      };

      const expectFault = (error: unknown, when: 'before' | 'after') => {
        expect(error).toBeInstanceOf(StorageError);
        expect(isStorageError(error)).toBe(true);
        expect(error).toMatchObject({ code: 'STORAGE_FAILURE' });
        const { cause } = error as StorageError;
        expect(cause).toBeInstanceOf(InjectedFault);
        expect(cause).toMatchObject({ operation: 'commit', when });
      };

      if (options.capabilities.atomic) {
        it('a retry after a lost acknowledgement returns the stored result', async () => {
          const { faulty, store, stream } = await faultySetup();
          faulty.inject({ nth: 1, when: 'after', operations: ['commit'] });
          expectFault(await failure(() => stream.append(batch, { expectedVersion: 1 })), 'after');
          expect(faulty.fired).toBe(1);

          expect(await stream.append(batch, { expectedVersion: 1 })).toEqual({
            version: 3,
            firstVersion: 2,
            position: 3,
            deduplicated: true,
          });
          await expectStoredOnce(store);
        });
      } else {
        it('a lost acknowledgement rolls the append back; the retry writes it', async () => {
          const { h, faulty, store, stream } = await faultySetup();
          const before = await dump(h);
          faulty.inject({ nth: 1, when: 'after', operations: ['commit'] });
          expectFault(await failure(() => stream.append(batch, { expectedVersion: 1 })), 'after');
          expect(faulty.fired).toBe(1);
          expect(await dump(h)).toEqual(before);

          expect(await stream.append(batch, { expectedVersion: 1 })).toEqual({
            version: 3,
            firstVersion: 2,
            position: 3,
            deduplicated: false,
          });
          await expectStoredOnce(store);
        });
      }

      it('a fault before the commit stores nothing; the retry writes it once', async () => {
        const { h, faulty, store, stream } = await faultySetup();
        const before = await dump(h);
        faulty.inject({ nth: 1, when: 'before', operations: ['commit'] });
        expectFault(await failure(() => stream.append(batch, { expectedVersion: 1 })), 'before');
        expect(await dump(h)).toEqual(before);
        expect(await stream.version()).toBe(1);

        expect(await stream.append(batch, { expectedVersion: 1 })).toEqual({
          version: 3,
          firstVersion: 2,
          position: 3,
          deduplicated: false,
        });
        await expectStoredOnce(store);
      });

      it('a retry after a fault at any write stores every event once', async () => {
        // Walks every write of the append (one for an atomic KV, one per key for the
        // sequential path), failing it before or after it applies: whichever write fails,
        // the append is either wholly stored or wholly absent, and the retry settles it.
        for (const when of ['before', 'after'] as const) {
          for (let nth = 1; ; nth++) {
            const { h, faulty, store, stream } = await faultySetup();
            const before = await dump(h);
            faulty.inject({ nth, when, operations: ['commit'] });
            const error = await failure(() => stream.append(batch, { expectedVersion: 1 })).catch(
              () => undefined,
            );
            faulty.heal();
            if (faulty.fired === 0) break;
            expectFault(error, when);
            const stored = options.capabilities.atomic && when === 'after';
            if (!stored) expect(await dump(h)).toEqual(before);

            expect(await stream.append(batch, { expectedVersion: 1 })).toEqual({
              version: 3,
              firstVersion: 2,
              position: 3,
              deduplicated: stored,
            });
            await expectStoredOnce(store);
            expect((await store.query('user', 'nobody')).events).toEqual([]);
            expect((await store.query('eventType', 'Deposited')).events).toHaveLength(3);
          }
        }
      });
    });

    describe('logging', () => {
      it('logs a deduplicated retry as append.deduplicated at info', async () => {
        const h = await setup();
        const recorder = recordingLogger();
        const stream = h.store({ logger: recorder.logger }).stream(account);
        const batch = [deposit(1, { messageId: 'a' }), deposit(2, { messageId: 'b' })];
        await stream.append(batch, { expectedVersion: 0 });
        expect(recorder.events()).not.toContain('append.deduplicated');

        await stream.append(batch, { expectedVersion: 0 });
        const logged = recorder.entries.filter((e) => e.fields.event === 'append.deduplicated');
        expect(logged).toHaveLength(1);
        expect(logged[0]).toMatchObject({
          level: 'info',
          fields: { database: 'default', ...account, version: 2 },
        });

        await expect(
          stream.append(deposit(3, { messageId: 'a' }), { expectedVersion: 2 }),
        ).rejects.toSatisfy(isDuplicateIdempotencyIdError);
        expect(
          recorder.entries.filter((e) => e.fields.event === 'append.deduplicated'),
        ).toHaveLength(1);
      });
    });
  });
};
