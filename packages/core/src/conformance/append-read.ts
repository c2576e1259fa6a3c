import { describe, expect, it } from 'vitest';
import { createSuperjsonCodec } from '../codec/superjson.js';
import {
  isCorruptRecordError,
  isInvalidArgumentError,
  isStorageError,
  isVersionMismatchError,
  type VersionMismatchError,
} from '../errors.js';
import { kvCommit, kvGet, kvScan } from '../kv/access.js';
import { createFaultyKv, InjectedFault } from '../testing/faulty-kv.js';
import type { EventInput } from '../types.js';
import {
  type BankEvent,
  type ConformanceOptions,
  deposit,
  failure,
  recordingLogger,
  useHarness,
} from './harness.js';

const ref = { type: 'BankAccount', id: '123456000' };

const opened = (owner = 'Joe Dalton'): EventInput<BankEvent> => ({
  type: 'AccountOpened',
  data: { owner, currency: 'EUR', openedAt: new Date(Date.UTC(2026, 0, 3)) },
});

/** Appending, reading, versions, payload round-trips, validation and damaged data. */
export const appendReadTests = (options: ConformanceOptions): void => {
  describe('append and read', () => {
    const setup = useHarness(options);

    describe('seed story 1: store domain events', () => {
      it('1.1 events added with metadata are persisted with their sequence numbers and retrievable', async () => {
        const h = await setup();
        const stream = h.store().stream(ref);
        const result = await stream.append([
          opened(),
          deposit(1500, { userId: 'joe', correlationId: 'c-1', messageId: 'm-2' }),
        ]);
        expect(result).toMatchObject({ version: 2, firstVersion: 1, deduplicated: false });
        const events = await stream.read();
        expect(events.map((e) => [e.version, e.type])).toEqual([
          [1, 'AccountOpened'],
          [2, 'Deposited'],
        ]);
        expect(events[1]?.metadata).toEqual({
          messageId: 'm-2',
          schemaVersion: 1,
          timestamp: h.clock.now(),
          aggregateType: 'BankAccount',
          aggregateId: '123456000',
          database: 'default',
          userId: 'joe',
          correlationId: 'c-1',
        });
      });

      it('1.2 events appended at version N + 1 follow the existing ones', async () => {
        const h = await setup();
        const stream = h.store().stream(ref);
        await stream.append([opened(), deposit(1)], { expectedVersion: 'no-stream' });
        const result = await stream.append(deposit(2), { expectedVersion: 2 });
        expect(result).toMatchObject({ version: 3, firstVersion: 3 });
        expect((await stream.read()).map((e) => e.version)).toEqual([1, 2, 3]);
      });

      it('1.3 an append with a conflicting version fails with a version mismatch and writes nothing', async () => {
        const h = await setup();
        const { logger, entries } = recordingLogger();
        const stream = h.store({ logger }).stream(ref);
        await stream.append([opened(), deposit(1)]);
        const error = (await failure(
          stream.append(deposit(2), { expectedVersion: 1 }),
        )) as VersionMismatchError;
        expect(isVersionMismatchError(error)).toBe(true);
        expect(error).toMatchObject({ code: 'VERSION_MISMATCH', expected: 1, actual: 2 });
        expect(error.stream).toEqual({ database: 'default', ...ref });
        expect(error.message).toMatch(/expected 1, actual 2.*reload/i);
        expect(await stream.version()).toBe(2);
        expect(entries).toContainEqual(
          expect.objectContaining({
            level: 'warn',
            fields: expect.objectContaining({ event: 'version.mismatch' }),
          }),
        );
      });

      it('expected version: no-stream, exists and any', async () => {
        const h = await setup();
        const stream = h.store().stream(ref);
        await expect(
          stream.append(deposit(1), { expectedVersion: 'exists' }),
        ).rejects.toMatchObject({
          code: 'VERSION_MISMATCH',
          expected: 'exists',
          actual: 0,
        });
        await stream.append(opened(), { expectedVersion: 'no-stream' });
        await expect(
          stream.append(deposit(1), { expectedVersion: 'no-stream' }),
        ).rejects.toMatchObject({
          expected: 'no-stream',
          actual: 1,
        });
        await expect(stream.append(deposit(1), { expectedVersion: 0 })).rejects.toMatchObject({
          actual: 1,
        });
        await stream.append(deposit(1), { expectedVersion: 'exists' });
        await stream.append(deposit(2), { expectedVersion: 'any' });
        await stream.append(deposit(3));
        expect(await stream.version()).toBe(4);
      });

      it('a multi-event append is one unit: a failed commit leaves none of it', async () => {
        const h = await setup();
        const faulty = createFaultyKv(h.kv);
        const stream = h.store({ kv: faulty }).stream(ref);
        await stream.append(opened());
        // On an atomic backend this fails the one commit; on a sequential one it fails a
        // write in the middle of the append, which must then be rolled back.
        faulty.inject({
          nth: options.capabilities.atomic ? 1 : 5,
          when: 'before',
          operations: ['commit'],
        });
        const error = await failure(stream.append([deposit(1), deposit(2), deposit(3)]));
        expect(isStorageError(error)).toBe(true);
        expect((error as Error).cause).toBeInstanceOf(InjectedFault);
        expect(await stream.version()).toBe(1);
        expect(await stream.read()).toHaveLength(1);
        expect((await h.store().readLog()).events).toHaveLength(1);
        expect((await h.store().query('eventType', 'Deposited')).events).toEqual([]);
        expect(await kvScan(h.kv, { by: 'index', prefix: 'default/i/' })).toHaveLength(1);
      });

      it('concurrent appends at the same expected version: exactly one wins (SC-002)', async () => {
        const h = await setup();
        const writers = [h.store(), h.store(), h.store(), h.store()];
        await writers[0]!.stream(ref).append(opened());
        const results = await Promise.allSettled(
          writers.map((w, i) => w.stream(ref).append(deposit(i), { expectedVersion: 1 })),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        expect(won).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected')
            expect(r.reason).toMatchObject({ code: 'VERSION_MISMATCH', expected: 1, actual: 2 });
        }
        expect((await h.store().stream(ref).read()).map((e) => e.version)).toEqual([1, 2]);
      });

      it('appends to different streams never conflict, even racing for global log positions', async () => {
        const h = await setup();
        const writers = Array.from({ length: 5 }, () => h.store());
        await Promise.all(
          writers.map((w, i) =>
            w
              .stream({ type: 'BankAccount', id: `acc-${i}` })
              .append(opened(), { expectedVersion: 0 }),
          ),
        );
        const log = await h.store().readLog();
        expect(log.events.map((e) => e.position)).toEqual([1, 2, 3, 4, 5]);
        expect(new Set(log.events.map((e) => e.metadata.aggregateId)).size).toBe(5);
      });

      it('logs appended events at debug level', async () => {
        const h = await setup();
        const { logger, entries } = recordingLogger();
        await h
          .store({ logger })
          .stream(ref)
          .append([opened(), deposit(5)]);
        expect(entries).toContainEqual({
          level: 'debug',
          message: expect.stringContaining('appended'),
          fields: { event: 'events.appended', database: 'default', ...ref, count: 2, version: 2 },
        });
      });
    });

    describe('seed story 2: retrieve event history', () => {
      it('2.1 returns all events in sequence order', async () => {
        const h = await setup();
        const stream = h.store().stream(ref);
        for (let i = 0; i < 12; i++) await stream.append(deposit(i));
        const events = await stream.read();
        expect(events.map((e) => e.version)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
        expect(events.map((e) => (e.type === 'Deposited' ? e.data.amount : -1))).toEqual(
          Array.from({ length: 12 }, (_, i) => i),
        );
      });

      it('2.2 an empty or unknown stream reads as an empty list, at version 0', async () => {
        const h = await setup();
        const stream = h.store().stream({ type: 'Nothing', id: 'here' });
        expect(await stream.read()).toEqual([]);
        expect(await stream.read({ direction: 'backward' })).toEqual([]);
        expect(await stream.version()).toBe(0);
      });

      it('2.3 polymorphic events come back as their own types, Dates, BigInt, Map and Set intact', async () => {
        type Rich = {
          type: 'Rich';
          data: {
            at: Date;
            big: bigint;
            tags: Set<string>;
            byKey: Map<string, number[]>;
            bytes: Uint8Array;
            pattern: RegExp;
          };
        };
        const h = await setup();
        const stream = h.store<BankEvent | Rich>().stream(ref);
        const rich: Rich['data'] = {
          at: new Date(Date.UTC(2026, 4, 5, 6, 7, 8, 9)),
          big: 12345678901234567890n,
          tags: new Set(['a', 'b']),
          byKey: new Map([['x', [1, 2]]]),
          bytes: new Uint8Array([1, 2, 255]),
          pattern: /a+b/gi,
        };
        await stream.append([opened(), { type: 'Rich', data: rich }, { type: 'AccountClosed' }]);
        const [first, second, third] = await stream.read();
        expect(first?.type === 'AccountOpened' && first.data.openedAt).toEqual(
          new Date(Date.UTC(2026, 0, 3)),
        );
        expect(second?.type === 'Rich' && second.data).toEqual(rich);
        expect(third).toMatchObject({ type: 'AccountClosed', version: 3 });
        expect(third && 'data' in third).toBe(false);
      });

      it('registered classes round-trip with the superjson codec', async () => {
        class Money {
          constructor(
            readonly amount: bigint,
            readonly currency: string,
          ) {}
          add(other: Money): Money {
            return new Money(this.amount + other.amount, this.currency);
          }
        }
        type Paid = { type: 'Paid'; data: { price: Money; at: Date } };
        const h = await setup();
        const store = h.store<Paid>({ codec: createSuperjsonCodec({ classes: { Money } }) });
        const at = new Date(Date.UTC(2026, 1, 1));
        await store
          .stream(ref)
          .append({ type: 'Paid', data: { price: new Money(250n, 'EUR'), at } });
        const [paid] = await store.stream(ref).read();
        expect(paid?.data.price).toBeInstanceOf(Money);
        expect(paid?.data.price.add(new Money(1n, 'EUR')).amount).toBe(251n);
        expect(paid?.data.at).toEqual(at);
      });

      it('a class instance without a codec that knows it is refused, not silently flattened', async () => {
        class Point {
          constructor(readonly x: number) {}
        }
        const h = await setup();
        const error = await failure(
          h
            .store<{ type: 'P'; data: { p: Point } }>()
            .stream(ref)
            .append({ type: 'P', data: { p: new Point(1) } }),
        );
        expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'events[0].data.p' });
        expect((error as Error).message).toMatch(/Point.*superjson/);
      });

      it('what is stored does not change when the caller mutates its objects', async () => {
        const h = await setup();
        const stream = h
          .store<{ type: 'T'; data: { list: number[]; at: Date; m: Map<string, number> } }>()
          .stream(ref);
        const data = { list: [1, 2], at: new Date(1000), m: new Map([['a', 1]]) };
        await stream.append({ type: 'T', data });
        data.list.push(3);
        data.at.setTime(5);
        data.m.set('b', 2);
        const [read] = await stream.read();
        expect(read?.data).toEqual({ list: [1, 2], at: new Date(1000), m: new Map([['a', 1]]) });
        // Read results are frozen or private copies: either way, mutating them cannot reach the store.
        try {
          read?.data.list.push(4);
        } catch {}
        read?.data.at.setTime(9);
        read?.data.m.set('c', 3);
        const [again] = await stream.read();
        expect(again?.data).toEqual({ list: [1, 2], at: new Date(1000), m: new Map([['a', 1]]) });
      });
    });

    describe('seed story 5: slices', () => {
      const hundred = async () => {
        const h = await setup();
        const stream = h.store().stream(ref);
        for (let i = 0; i < 10; i++) {
          await stream.append(Array.from({ length: 10 }, (_, j) => deposit(i * 10 + j + 1)));
        }
        return stream;
      };

      it('5.1 versions 50 to 75 of 100 are exactly those, in order', async () => {
        const stream = await hundred();
        const slice = await stream.read({ from: 50, to: 75 });
        expect(slice.map((e) => e.version)).toEqual(Array.from({ length: 26 }, (_, i) => 50 + i));
      });

      it('5.2 from version 5 to the end', async () => {
        const h = await setup();
        const stream = h.store().stream(ref);
        await stream.append(Array.from({ length: 10 }, (_, i) => deposit(i)));
        expect((await stream.read({ from: 5 })).map((e) => e.version)).toEqual([5, 6, 7, 8, 9, 10]);
      });

      it('5.3 a slice past the end is empty, not an error', async () => {
        const h = await setup();
        const stream = h.store().stream(ref);
        await stream.append(Array.from({ length: 10 }, (_, i) => deposit(i)));
        expect(await stream.read({ from: 15 })).toEqual([]);
        expect(await stream.read({ from: 15, to: 20 })).toEqual([]);
        expect((await stream.read({ from: 8, to: 20 })).map((e) => e.version)).toEqual([8, 9, 10]);
      });

      it('reads backwards, with limits in either direction', async () => {
        const stream = await hundred();
        expect(
          (await stream.read({ direction: 'backward', limit: 3 })).map((e) => e.version),
        ).toEqual([100, 99, 98]);
        expect(
          (await stream.read({ direction: 'backward', from: 10, to: 12 })).map((e) => e.version),
        ).toEqual([12, 11, 10]);
        expect((await stream.read({ from: 40, limit: 2 })).map((e) => e.version)).toEqual([40, 41]);
        expect(
          (await stream.read({ direction: 'backward', to: 2, limit: 5 })).map((e) => e.version),
        ).toEqual([2, 1]);
      });

      it('rejects first > last and malformed read options', async () => {
        const stream = await hundred();
        const bad: [unknown, string][] = [
          [{ from: 5, to: 4 }, 'options.from'],
          [{ from: 0 }, 'options.from'],
          [{ from: 1.5 }, 'options.from'],
          [{ to: -1 }, 'options.to'],
          [{ limit: 0 }, 'options.limit'],
          [{ direction: 'sideways' }, 'options.direction'],
          [{ form: 3 }, 'options.form'],
        ];
        for (const [opts, field] of bad) {
          const error = await failure(stream.read(opts as never));
          expect(isInvalidArgumentError(error), JSON.stringify(opts)).toBe(true);
          expect(error).toMatchObject({ field });
        }
      });
    });

    describe('seed story 6: current version', () => {
      it('6.1 five events -> version 5; 6.2 no events -> version 0', async () => {
        const h = await setup();
        const stream = h.store().stream(ref);
        expect(await stream.version()).toBe(0);
        await stream.append([opened(), deposit(1), deposit(2)]);
        await stream.append([deposit(3), deposit(4)]);
        expect(await stream.version()).toBe(5);
      });
    });

    describe('names and partitions', () => {
      it('non-ASCII, separator-laden names work and keep streams apart', async () => {
        const h = await setup();
        const store = h.store();
        const names = ['Compte/Épargne', 'Compte', 'Compte%2FÉpargne', '口座 🏦', 'a/b/c'];
        for (const [i, name] of names.entries()) {
          await store.stream({ type: name, id: name }).append(deposit(i));
        }
        for (const [i, name] of names.entries()) {
          const events = await store.stream({ type: name, id: name }).read();
          expect(events.map((e) => (e.type === 'Deposited' ? e.data.amount : -1))).toEqual([i]);
          expect(events[0]?.metadata).toMatchObject({ aggregateType: name, aggregateId: name });
        }
        for (const { key } of await kvScan(h.kv, {})) expect(key).toMatch(/^[\x20-\x7E]+$/);
        for (const { indexKey } of await kvScan(h.kv, { by: 'index' })) {
          expect(indexKey).toMatch(/^[\x21-\x7E]+$/);
        }
      });

      it('databases partition streams of the same type and id', async () => {
        const h = await setup();
        const store = h.store();
        await store.stream({ database: 'tenant-a', ...ref }).append(deposit(1));
        await store.stream({ database: 'tenant-b', ...ref }).append([deposit(2), deposit(3)]);
        expect(await store.stream(ref).version()).toBe(0);
        expect(await store.stream({ database: 'tenant-a', ...ref }).version()).toBe(1);
        const b = await store.stream({ database: 'tenant-b', ...ref }).read();
        expect(b.map((e) => e.metadata.database)).toEqual(['tenant-b', 'tenant-b']);
      });
    });

    describe('bad input is refused before anything is written', () => {
      const cases: [string, unknown, unknown, string][] = [
        ['an empty batch', [], undefined, 'events'],
        ['a non-object event', [42], undefined, 'events[0]'],
        ['a missing type', [{ data: {} }], undefined, 'events[0].type'],
        ['an empty type', [{ type: '' }], undefined, 'events[0].type'],
        ['an unknown event property', [{ type: 'T', payload: 1 }], undefined, 'events[0].payload'],
        [
          'a function in the payload',
          [{ type: 'T', data: { f: () => 1 } }],
          undefined,
          'events[0].data.f',
        ],
        [
          'a symbol in the payload',
          [{ type: 'T', data: [Symbol('s')] }],
          undefined,
          'events[0].data[0]',
        ],
        [
          'a WeakMap in the payload',
          [{ type: 'T', data: { w: new WeakMap() } }],
          undefined,
          'events[0].data.w',
        ],
        [
          'an unknown metadata property',
          [{ type: 'T', metadata: { tenant: 'x' } }],
          undefined,
          'events[0].metadata.tenant',
        ],
        [
          'an empty message id',
          [{ type: 'T', metadata: { messageId: '' } }],
          undefined,
          'events[0].metadata.messageId',
        ],
        [
          'a schema version of 0',
          [{ type: 'T', metadata: { schemaVersion: 0 } }],
          undefined,
          'events[0].metadata.schemaVersion',
        ],
        [
          'a user id with a control character',
          [{ type: 'T', metadata: { userId: 'a\nb' } }],
          undefined,
          'events[0].metadata.userId',
        ],
        [
          'a negative expected version',
          [{ type: 'T' }],
          { expectedVersion: -1 },
          'expectedVersion',
        ],
        [
          'a fractional expected version',
          [{ type: 'T' }],
          { expectedVersion: 1.5 },
          'expectedVersion',
        ],
        [
          'an unknown expected version',
          [{ type: 'T' }],
          { expectedVersion: 'latest' },
          'expectedVersion',
        ],
        [
          'a second bad event after a good one',
          [{ type: 'T' }, { type: 'T', data: () => 1 }],
          undefined,
          'events[1].data',
        ],
      ];
      for (const [what, events, appendOptions, field] of cases) {
        it(`${what} -> INVALID_ARGUMENT naming ${field}`, async () => {
          const h = await setup();
          const stream = h.store().stream(ref);
          const error = await failure(stream.append(events as never, appendOptions as never));
          expect(isInvalidArgumentError(error)).toBe(true);
          expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field });
          expect(await kvScan(h.kv, {})).toEqual([]);
        });
      }

      it('too many events in one append', async () => {
        const h = await setup();
        const stream = h.store({ maxEventsPerAppend: 3 }).stream(ref);
        await expect(
          stream.append([deposit(1), deposit(2), deposit(3), deposit(4)]),
        ).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
          field: 'events',
        });
        expect(await kvScan(h.kv, {})).toEqual([]);
      });

      it('a payload that contains itself is refused naming where the cycle closes', async () => {
        const h = await setup();
        const stream = h
          .store<{ type: 'Cyclic'; data: { self?: unknown; name: string } }>()
          .stream(ref);
        const data: { self?: unknown; name: string } = { name: 'loop' };
        data.self = data;
        const error = await failure(stream.append({ type: 'Cyclic', data }));
        expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'events[0].data.self' });
        expect(await kvScan(h.kv, {})).toEqual([]);
      });
    });

    describe('damaged data is reported, never returned or skipped', () => {
      const damaged = async () => {
        const h = await setup();
        const stream = h.store().stream(ref);
        await stream.append([opened(), deposit(1), deposit(2)]);
        const keys = (await kvScan(h.kv, { prefix: 'default/e/' })).map((e) => e.key);
        return { h, stream, keys };
      };

      it('an event that no longer has its shape -> CORRUPT_RECORD naming key and version', async () => {
        const { h, stream, keys } = await damaged();
        await kvCommit(h.kv, { puts: [{ key: keys[1]!, value: { garbage: true } }] });
        const error = await failure(stream.read());
        expect(isCorruptRecordError(error)).toBe(true);
        expect(error).toMatchObject({ code: 'CORRUPT_RECORD', key: keys[1], version: 2 });
        expect((error as Error).message).toContain(keys[1]);
        await expect(stream.read({ from: 2, to: 2 })).rejects.toMatchObject({
          code: 'CORRUPT_RECORD',
        });
        expect(await stream.read({ from: 3 })).toHaveLength(1);
      });

      it('a missing event in the middle of a stream -> CORRUPT_RECORD (a gap is never skipped)', async () => {
        const { h, stream, keys } = await damaged();
        await kvCommit(h.kv, { deletes: [keys[1]!] });
        await expect(stream.read()).rejects.toMatchObject({ code: 'CORRUPT_RECORD', version: 2 });
        await expect(stream.read({ direction: 'backward' })).rejects.toMatchObject({
          code: 'CORRUPT_RECORD',
          version: 2,
        });
      });

      it('an event stored under the wrong version -> CORRUPT_RECORD', async () => {
        const { h, stream, keys } = await damaged();
        const [third] = await kvGet(h.kv, [keys[2]!]);
        await kvCommit(h.kv, { puts: [{ key: keys[1]!, value: third }] });
        await expect(stream.read()).rejects.toMatchObject({
          code: 'CORRUPT_RECORD',
          key: keys[1],
          version: 2,
        });
      });

      it('a damaged stream head -> CORRUPT_RECORD from version() and append()', async () => {
        const { h, stream } = await damaged();
        const [head] = await kvScan(h.kv, { prefix: 'default/h/' });
        await kvCommit(h.kv, { puts: [{ key: head!.key, value: 'three' }] });
        await expect(stream.version()).rejects.toMatchObject({
          code: 'CORRUPT_RECORD',
          key: head!.key,
        });
        await expect(stream.append(deposit(1))).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
      });

      it('a payload that no longer decodes with the codec -> CORRUPT_RECORD with the cause', async () => {
        const h = await setup();
        const stream = h.store({ codec: createSuperjsonCodec() }).stream(ref);
        await stream.append(deposit(1));
        const [entry] = await kvScan(h.kv, { prefix: 'default/e/' });
        const record = entry!.value as Record<string, unknown>;
        await kvCommit(h.kv, {
          puts: [{ key: entry!.key, value: { ...record, data: 'not superjson' } }],
        });
        const error = await failure(stream.read());
        expect(error).toMatchObject({ code: 'CORRUPT_RECORD', version: 1 });
        expect((error as Error).cause).toBeInstanceOf(Error);
      });
    });

    describe('storage failures', () => {
      it('a failing read -> STORAGE_FAILURE with the backend error as cause', async () => {
        const h = await setup();
        const faulty = createFaultyKv(h.kv);
        const stream = h.store({ kv: faulty }).stream(ref);
        await stream.append(deposit(1));
        for (const operation of ['get', 'scan'] as const) {
          faulty.inject({ nth: 1, when: 'before', operations: [operation] });
          const error = await failure(operation === 'get' ? stream.version() : stream.read());
          expect(isStorageError(error)).toBe(true);
          expect(error).toMatchObject({ code: 'STORAGE_FAILURE', operation });
          expect((error as Error).cause).toBeInstanceOf(InjectedFault);
          expect((error as Error).message).toMatch(/safe to retry/);
        }
        expect(await stream.read()).toHaveLength(1);
      });
    });
  });
};
