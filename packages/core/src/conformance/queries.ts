import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptRecordError, isCorruptRecordError, isInvalidArgumentError } from '../errors.js';
import { databaseKeys, encodeNumber, type IndexName } from '../keys.js';
import { kvCommit, kvScan } from '../kv/access.js';
import { emulatedIndexKey } from '../kv/emulated-indexes.js';
import type { EventStore } from '../store.js';
import type { QueryOptions, QueryPage, RecordedEvent, StreamRef } from '../types.js';
import {
  type BankEvent,
  type ConformanceOptions,
  deposit,
  failure,
  type Harness,
  useHarness,
} from './harness.js';

type Store = EventStore<BankEvent>;
type Meta = { messageId: string; userId?: string; correlationId?: string };

const INDEXES: readonly IndexName[] = ['eventType', 'aggregateType', 'user', 'correlation'];

const accountA = { type: 'BankAccount', id: 'a' } as const;
const accountB = { type: 'BankAccount', id: 'b' } as const;
const ledger = { type: 'Ledger', id: 'main' } as const;
const tenantB = { database: 'tenant-b', type: 'BankAccount', id: 'a' } as const;

const messageIds = (events: readonly RecordedEvent<BankEvent>[]) =>
  events.map((e) => e.metadata.messageId);

const expectInvalid = async (op: () => unknown, field: string) => {
  const error = await failure(op);
  expect(isInvalidArgumentError(error)).toBe(true);
  expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field });
};

/** Every page of a query, following cursors; fails rather than loop forever. */
const queryAll = async (
  store: Store,
  index: IndexName,
  value: string,
  options: Omit<QueryOptions, 'cursor'>,
  maxPages = 1000,
) => {
  const pages: RecordedEvent<BankEvent>[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.query(
      index,
      value,
      cursor === undefined ? options : { ...options, cursor },
    );
    pages.push(page.events);
    cursor = page.cursor;
    if (pages.length > maxPages) throw new Error('query pagination does not end');
  } while (cursor !== undefined);
  return pages;
};

/** Every page of the global log, following `position`. */
const readLogAll = async (store: Store, database: string | undefined, limit: number) => {
  const pages: RecordedEvent<BankEvent>[][] = [];
  let after = 0;
  for (;;) {
    const page = await store.readLog({
      ...(database === undefined ? {} : { database }),
      after,
      limit,
    });
    if (page.events.length === 0) {
      expect(page.position).toBe(after);
      return pages;
    }
    expect(page.position).toBe(page.events.at(-1)?.position);
    pages.push(page.events);
    after = page.position;
    if (pages.length > 1000) throw new Error('readLog paging does not end');
  }
};

/**
 * Seven events in two databases; `t0` is the clock at the first append.
 *
 *   t0      BankAccount/a  Deposited, Withdrawn  m1, m2  alice  c1   (one append)
 *   t0+10   BankAccount/b  Deposited             m3      bob    c2
 *   t0+20   Ledger/main    Deposited             m4      -      c1
 *   t0+30   BankAccount/a  Deposited             m5      bob    -
 *   t0+30   tenant-b: BankAccount/a Deposited    m6      alice  c1
 *   t0+40   BankAccount/b  AccountClosed         m7      alice  c2
 */
const seed = async (h: Harness) => {
  const store = h.store();
  const t0 = h.clock.now();
  await store.stream(accountA).append([
    deposit(1, { messageId: 'm1', userId: 'alice', correlationId: 'c1' }),
    {
      type: 'Withdrawn',
      data: { amount: 1 },
      metadata: { messageId: 'm2', userId: 'alice', correlationId: 'c1' },
    },
  ]);
  h.clock.advance(10);
  await store
    .stream(accountB)
    .append(deposit(3, { messageId: 'm3', userId: 'bob', correlationId: 'c2' }));
  h.clock.advance(10);
  await store.stream(ledger).append(deposit(4, { messageId: 'm4', correlationId: 'c1' }));
  h.clock.advance(10);
  await store.stream(accountA).append(deposit(5, { messageId: 'm5', userId: 'bob' }));
  await store
    .stream(tenantB)
    .append(deposit(6, { messageId: 'm6', userId: 'alice', correlationId: 'c1' }));
  h.clock.advance(10);
  await store.stream(accountB).append({
    type: 'AccountClosed',
    metadata: { messageId: 'm7', userId: 'alice', correlationId: 'c2' },
  });
  return { store, t0 };
};

/** Names that stress the key encoding: separators, escapes, unicode, emoji, spaces. */
const trickyName = fc.oneof(
  fc
    .array(
      fc.constantFrom(
        'a',
        'b',
        '/',
        '%',
        '%2F',
        '2F',
        ' ',
        '.',
        '~',
        'é',
        'e\u0301',
        '😀',
        '\uFFFF',
        '#',
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((parts) => parts.join('')),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }).filter(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the store rejects control characters
    (s) => !/[\u0000-\u001F\u007F]/.test(s),
  ),
);

const isEventRecord = (value: unknown, id: string, version: number): boolean => {
  const v = value as {
    type?: unknown;
    version?: unknown;
    metadata?: { aggregateId?: unknown };
  } | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.type === 'string' &&
    v.version === version &&
    v.metadata?.aggregateId === id
  );
};

/** Every key the store holds: records by key, and the index keys that find them. */
const allKeys = async (h: Harness): Promise<string[]> => [
  ...(await kvScan(h.kv, {}))
    .map((e) => e.key)
    .filter((key) => !key.startsWith(emulatedIndexKey(''))),
  ...(await kvScan(h.kv, { by: 'index' })).map((e) => e.indexKey as string),
];

export const queryTests = (options: ConformanceOptions): void => {
  describe('queries', () => {
    const setup = useHarness(options);
    const scale = options.propertyRunScale ?? 1;

    describe('index queries', () => {
      it('find events by event type across streams, in time order', async () => {
        const h = await setup();
        const { store } = await seed(h);
        expect(messageIds((await store.query('eventType', 'Deposited')).events)).toEqual([
          'm1',
          'm3',
          'm4',
          'm5',
        ]);
        expect(messageIds((await store.query('eventType', 'Withdrawn')).events)).toEqual(['m2']);
        expect(messageIds((await store.query('eventType', 'AccountClosed')).events)).toEqual([
          'm7',
        ]);
        expect((await store.query('eventType', 'AccountOpened')).events).toEqual([]);
      });

      it('find events by aggregate type', async () => {
        const h = await setup();
        const { store } = await seed(h);
        expect(messageIds((await store.query('aggregateType', 'BankAccount')).events)).toEqual([
          'm1',
          'm2',
          'm3',
          'm5',
          'm7',
        ]);
        expect(messageIds((await store.query('aggregateType', 'Ledger')).events)).toEqual(['m4']);
      });

      it('find events by user; events without a user id are in no user query', async () => {
        const h = await setup();
        const { store } = await seed(h);
        expect(messageIds((await store.query('user', 'alice')).events)).toEqual(['m1', 'm2', 'm7']);
        expect(messageIds((await store.query('user', 'bob')).events)).toEqual(['m3', 'm5']);
        expect((await store.query('user', 'nobody')).events).toEqual([]);
      });

      it('find events by correlation id; events without one are in none', async () => {
        const h = await setup();
        const { store } = await seed(h);
        expect(messageIds((await store.query('correlation', 'c1')).events)).toEqual([
          'm1',
          'm2',
          'm4',
        ]);
        expect(messageIds((await store.query('correlation', 'c2')).events)).toEqual(['m3', 'm7']);
      });

      it('return the events as stored, equal to what reading their stream returns', async () => {
        const h = await setup();
        const { store } = await seed(h);
        const [fromQuery] = (await store.query('user', 'bob', { limit: 1 })).events;
        const [fromStream] = await store.stream(accountB).read();
        expect(fromQuery).toEqual(fromStream);
      });

      it('bound by time: since is inclusive, until exclusive, as numbers or Dates', async () => {
        const h = await setup();
        const { store, t0 } = await seed(h);
        const alice = async (window: QueryOptions) =>
          messageIds((await store.query('user', 'alice', window)).events);
        expect(await alice({ since: t0 + 10 })).toEqual(['m7']);
        expect(await alice({ since: t0 + 40 })).toEqual(['m7']);
        expect(await alice({ since: t0 + 41 })).toEqual([]);
        expect(await alice({ until: t0 + 40 })).toEqual(['m1', 'm2']);
        expect(await alice({ until: t0 })).toEqual([]);
        expect(await alice({ since: t0, until: t0 + 1 })).toEqual(['m1', 'm2']);
        expect(await alice({ since: t0 + 40, until: t0 + 40 })).toEqual([]);
        expect(await alice({ since: new Date(t0 + 1), until: new Date(t0 + 41) })).toEqual(['m7']);
        const deposited = await store.query('eventType', 'Deposited', {
          since: new Date(t0 + 10),
          until: new Date(t0 + 30),
        });
        expect(messageIds(deposited.events)).toEqual(['m3', 'm4']);
      });

      it('order by timestamp, then by global position, even when clocks disagree', async () => {
        const h = await setup();
        const store = h.store();
        const t0 = h.clock.now();
        h.clock.set(t0 + 100);
        await store.stream(accountA).append(deposit(1, { messageId: 'late', userId: 'u' }));
        // Another writer with a slower clock appends afterwards, to another stream: its
        // event is later in the log but earlier in time.
        h.clock.set(t0 + 50);
        await store.stream(accountB).append(deposit(2, { messageId: 'early', userId: 'u' }));
        await store.stream(ledger).append(deposit(3, { messageId: 'early-too', userId: 'u' }));
        h.clock.set(t0 + 100);
        await store.stream(ledger).append(deposit(4, { messageId: 'tie', userId: 'u' }));

        expect(messageIds((await store.query('user', 'u')).events)).toEqual([
          'early',
          'early-too',
          'late',
          'tie',
        ]);
        expect(messageIds((await store.readLog()).events)).toEqual([
          'late',
          'early',
          'early-too',
          'tie',
        ]);
        const pages = await queryAll(store, 'user', 'u', { limit: 1 });
        expect(pages.flatMap(messageIds)).toEqual(['early', 'early-too', 'late', 'tie']);
      });

      it("never place a stream's later events before its earlier ones", async () => {
        const h = await setup();
        const store = h.store();
        const stream = store.stream(accountA);
        const t0 = h.clock.now();
        await stream.append(deposit(1, { messageId: 'first', userId: 'u' }));
        h.clock.set(t0 - 1000);
        await stream.append(deposit(2, { messageId: 'second', userId: 'u' }));
        const events = (await store.query('user', 'u')).events;
        expect(messageIds(events)).toEqual(['first', 'second']);
        expect(events[1]!.metadata.timestamp).toBeGreaterThanOrEqual(events[0]!.metadata.timestamp);
      });

      it('match index values exactly: no prefix, escape or case leaks between values', async () => {
        const h = await setup();
        const store = h.store();
        const users = ['ann', 'an', 'ann/x', 'ann%2Fx', 'ann x', 'Ann', 'ann😀', 'annx'];
        for (const [i, userId] of users.entries()) {
          await store
            .stream({ ...accountA, id: `s${i}` })
            .append(deposit(i, { messageId: `m${i}`, userId }));
        }
        for (const [i, userId] of users.entries()) {
          expect(messageIds((await store.query('user', userId)).events)).toEqual([`m${i}`]);
        }
      });

      it('return every metadata field as stored', async () => {
        const h = await setup();
        const store = h.store();
        const ref = { database: 'tenant-a', type: 'BankAccount', id: 'acc/1 é😀' };
        const now = h.clock.now();
        await store.stream(ref).append([
          {
            type: 'Deposited',
            data: { amount: 5 },
            metadata: {
              messageId: 'msg-1',
              schemaVersion: 3,
              userId: 'user-1',
              correlationId: 'corr-1',
              causationId: 'cause-1',
            },
          },
          { type: 'Deposited', data: { amount: 6 } },
        ]);
        const full = {
          messageId: 'msg-1',
          schemaVersion: 3,
          timestamp: now,
          aggregateType: 'BankAccount',
          aggregateId: 'acc/1 é😀',
          database: 'tenant-a',
          userId: 'user-1',
          correlationId: 'corr-1',
          causationId: 'cause-1',
        };
        const opts = { database: 'tenant-a' };
        for (const events of [
          await store.stream(ref).read(),
          (await store.readLog(opts)).events,
          (await store.query('user', 'user-1', opts)).events,
          (await store.query('correlation', 'corr-1', opts)).events,
        ]) {
          expect(events[0]).toMatchObject({
            type: 'Deposited',
            data: { amount: 5 },
            version: 1,
            position: 1,
          });
          expect(events[0]!.metadata).toEqual(full);
        }
        const [, bare] = (await store.query('aggregateType', 'BankAccount', opts)).events;
        expect(bare!.metadata).toEqual({
          messageId: expect.any(String),
          schemaVersion: 1,
          timestamp: now,
          aggregateType: 'BankAccount',
          aggregateId: 'acc/1 é😀',
          database: 'tenant-a',
        });
        for (const field of ['userId', 'correlationId', 'causationId']) {
          expect(bare!.metadata).not.toHaveProperty(field);
        }
      });
    });

    describe('pagination', () => {
      it('visit every match once with limit and cursor; the last page has none', async () => {
        const h = await setup();
        const store = h.store();
        for (let i = 1; i <= 7; i++) {
          await store
            .stream({ ...accountA, id: `s${i % 3}` })
            .append(deposit(i, { messageId: `m${i}`, userId: 'u' }));
          if (i % 2 === 0) h.clock.advance(5);
        }
        const all = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'];
        for (const limit of [1, 2, 3, 6, 7, 8]) {
          const pages = await queryAll(store, 'user', 'u', { limit });
          expect(pages.flatMap(messageIds)).toEqual(all);
          expect(pages.map((p) => p.length)).toEqual(
            Array.from({ length: Math.ceil(7 / limit) }, (_, i) => Math.min(limit, 7 - i * limit)),
          );
        }
        const first = await store.query('user', 'u', { limit: 7 });
        expect(first.cursor).toBeUndefined();
      });

      it('a cursor keeps the time window and resumes after events appended since', async () => {
        const h = await setup();
        const store = h.store();
        const t0 = h.clock.now();
        for (let i = 1; i <= 4; i++) {
          await store.stream(accountA).append(deposit(i, { messageId: `m${i}`, userId: 'u' }));
          h.clock.advance(10);
        }
        const window = { since: t0 + 10, until: t0 + 1000 };
        const page1 = await store.query('user', 'u', { ...window, limit: 2 });
        expect(messageIds(page1.events)).toEqual(['m2', 'm3']);
        expect(page1.cursor).toEqual(expect.any(String));
        await store.stream(accountB).append(deposit(5, { messageId: 'm5', userId: 'u' }));
        h.clock.advance(2000);
        await store.stream(accountB).append(deposit(6, { messageId: 'm6', userId: 'u' }));

        const page2 = await store.query('user', 'u', {
          ...window,
          limit: 2,
          cursor: page1.cursor!,
        });
        expect(messageIds(page2.events)).toEqual(['m4', 'm5']);
        expect(page2.cursor).toBeUndefined();
      });

      it('rejects a cursor from another query as INVALID_ARGUMENT', async () => {
        const h = await setup();
        const { store } = await seed(h);
        const { cursor } = await store.query('user', 'alice', { limit: 1 });
        expect(cursor).toEqual(expect.any(String));
        const foreign = cursor!;
        await expectInvalid(
          () => store.query('user', 'bob', { cursor: foreign }),
          'options.cursor',
        );
        await expectInvalid(
          () => store.query('correlation', 'alice', { cursor: foreign }),
          'options.cursor',
        );
        await expectInvalid(
          () => store.query('user', 'alice', { database: 'tenant-b', cursor: foreign }),
          'options.cursor',
        );
        await expectInvalid(
          () => store.query('user', 'alice', { cursor: 'garbage' }),
          'options.cursor',
        );
        await expectInvalid(
          () => store.query('user', 'alice', { cursor: 42 as unknown as string }),
          'options.cursor',
        );
      });

      it('reject a limit outside 1..1000 and an inverted window (INVALID_ARGUMENT)', async () => {
        const h = await setup();
        const { store, t0 } = await seed(h);
        for (const limit of [0, -1, 1001, 1.5, Number.NaN]) {
          await expectInvalid(() => store.query('user', 'alice', { limit }), 'options.limit');
          await expectInvalid(() => store.readLog({ limit }), 'options.limit');
        }
        expect((await store.query('user', 'alice', { limit: 1000 })).events).toHaveLength(3);
        expect((await store.readLog({ limit: 1000 })).events).toHaveLength(6);
        await expectInvalid(
          () => store.query('user', 'alice', { since: t0 + 1, until: t0 }),
          'options.since',
        );
        await expectInvalid(
          () => store.query('user', 'alice', { since: new Date(t0 + 1), until: new Date(t0) }),
          'options.since',
        );
        await expectInvalid(() => store.query('user', 'alice', { since: -1 }), 'options.since');
        await expectInvalid(
          () => store.query('user', 'alice', { until: new Date(Number.NaN) }),
          'options.until',
        );
        await expectInvalid(() => store.query('user', ''), 'value');
        await expectInvalid(() => store.query('userId' as IndexName, 'alice'), 'index');
        await expectInvalid(() => store.readLog({ after: -1 }), 'options.after');
      });

      it('page every query of any history exactly as a reference model does', async () => {
        type Model = {
          database: string;
          messageId: string;
          position: number;
          timestamp: number;
          keys: Record<IndexName, string | undefined>;
        };
        const refs = [accountA, accountB, ledger, tenantB] as const;
        const append = fc.record({
          stream: fc.integer({ min: 0, max: refs.length - 1 }),
          size: fc.integer({ min: 1, max: 3 }),
          type: fc.constantFrom('Deposited' as const, 'Withdrawn' as const),
          userId: fc.option(fc.constantFrom('u1', 'u2'), { nil: undefined }),
          correlationId: fc.option(fc.constantFrom('c1', 'c2'), { nil: undefined }),
          // Steps back in time too, as a writer with a slower clock would.
          step: fc.integer({ min: -20, max: 20 }),
        });
        const query = fc.record({
          index: fc.constantFrom(...INDEXES),
          value: fc.constantFrom(
            'Deposited',
            'Withdrawn',
            'BankAccount',
            'Ledger',
            'u1',
            'u2',
            'c1',
            'c2',
          ),
          database: fc.constantFrom('default', 'tenant-b'),
          since: fc.option(fc.integer({ min: -30, max: 200 }), { nil: undefined }),
          span: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
          limit: fc.integer({ min: 1, max: 5 }),
        });
        // Each run checks a dozen queries and every log page against a model of a random
        // history, with equal and decreasing timestamps: 30 runs exercise ordering ties,
        // window edges and page boundaries far beyond the hand-written cases.
        await fc.assert(
          fc.asyncProperty(
            fc.array(append, { minLength: 1, maxLength: 15 }),
            fc.array(query, { minLength: 1, maxLength: 12 }),
            async (appends, queries) => {
              const h = await setup();
              const store = h.store();
              const t0 = h.clock.now() + 100;
              h.clock.set(t0);
              const model: Model[] = [];
              const lastTime = new Map<number, number>();
              let n = 0;
              for (const a of appends) {
                h.clock.advance(a.step);
                const ref = refs[a.stream]!;
                const meta = (i: number): Meta => ({
                  messageId: `m${n + i}`,
                  ...(a.userId === undefined ? {} : { userId: a.userId }),
                  ...(a.correlationId === undefined ? {} : { correlationId: a.correlationId }),
                });
                const batch = Array.from({ length: a.size }, (_, i) => ({
                  type: a.type,
                  data: { amount: i },
                  metadata: meta(i),
                }));
                const result = await store.stream(ref).append(batch);
                const timestamp = Math.max(h.clock.now(), lastTime.get(a.stream) ?? 0);
                lastTime.set(a.stream, timestamp);
                const database = 'database' in ref ? ref.database : 'default';
                batch.forEach((event, i) => {
                  model.push({
                    database,
                    messageId: event.metadata.messageId,
                    position: result.position! - a.size + 1 + i,
                    timestamp,
                    keys: {
                      eventType: a.type,
                      aggregateType: ref.type,
                      user: a.userId,
                      correlation: a.correlationId,
                    },
                  });
                });
                n += a.size;
              }
              for (const q of queries) {
                const since = q.since === undefined ? undefined : t0 + q.since;
                const until = q.span === undefined ? undefined : (since ?? t0) + q.span;
                const expected = model
                  .filter(
                    (m) =>
                      m.database === q.database &&
                      m.keys[q.index] === q.value &&
                      (since === undefined || m.timestamp >= since) &&
                      (until === undefined || m.timestamp < until),
                  )
                  .sort((x, y) => x.timestamp - y.timestamp || x.position - y.position)
                  .map((m) => m.messageId);
                const pages = await queryAll(store, q.index, q.value, {
                  database: q.database,
                  limit: q.limit,
                  ...(since === undefined ? {} : { since }),
                  ...(until === undefined ? {} : { until }),
                });
                expect(pages.flatMap(messageIds)).toEqual(expected);
                expect(pages.every((p, i) => p.length === q.limit || i === pages.length - 1)).toBe(
                  true,
                );
              }
              for (const database of ['default', 'tenant-b']) {
                const inLog = model.filter((m) => m.database === database);
                const pages = await readLogAll(store, database, 4);
                expect(pages.flatMap(messageIds)).toEqual(inLog.map((m) => m.messageId));
                expect(pages.flat().map((e) => e.position)).toEqual(inLog.map((_, i) => i + 1));
              }
            },
          ),
          { numRuns: Math.max(1, Math.round(30 * scale)) },
        );
      });
    });

    describe('global log', () => {
      it("returns the database's events in append order, positions 1..N, paged", async () => {
        const h = await setup();
        const { store } = await seed(h);
        const whole = await store.readLog();
        expect(messageIds(whole.events)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm7']);
        expect(whole.events.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(whole.position).toBe(6);
        for (const limit of [1, 2, 4, 6]) {
          const pages = await readLogAll(store, undefined, limit);
          expect(pages.flatMap(messageIds)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm7']);
        }
        const tail = await store.readLog({ after: 4, limit: 1 });
        expect(messageIds(tail.events)).toEqual(['m5']);
        expect(tail.position).toBe(5);
        expect(await store.readLog({ after: 6 })).toEqual({ events: [], position: 6 });
        expect(await store.readLog({ after: 100 })).toEqual({ events: [], position: 100 });
      });

      it('gives each database its own log; other databases are invisible', async () => {
        const h = await setup();
        const { store } = await seed(h);
        const other = await store.readLog({ database: 'tenant-b' });
        expect(messageIds(other.events)).toEqual(['m6']);
        expect(other.events[0]).toMatchObject({ position: 1, metadata: { database: 'tenant-b' } });
        expect(await store.readLog({ database: 'tenant-c' })).toEqual({ events: [], position: 0 });
        expect(messageIds((await store.readLog({ database: 'default' })).events)).not.toContain(
          'm6',
        );
      });

      it('returns the same events as reading their streams', async () => {
        const h = await setup();
        const { store } = await seed(h);
        const logged = (await store.readLog()).events;
        const streamed = [
          ...(await store.stream(accountA).read()),
          ...(await store.stream(accountB).read()),
          ...(await store.stream(ledger).read()),
        ].sort((x, y) => x.position! - y.position!);
        expect(logged).toEqual(streamed);
      });

      // Several racing appends per stream. The sequential path checks each key against
      // what it read before writing, so a racing writer can overwrite another's in-flight
      // keys there: this guarantee is asserted where commits are atomic.
      if (options.capabilities.atomic) {
        it('stays contiguous when racing appends to several streams interleave', async () => {
          const h = await setup();
          const store = h.store();
          const streams = [accountA, accountB, ledger].map((ref) => store.stream(ref));
          const results = await Promise.all(
            streams.flatMap((s, i) =>
              [1, 2, 3].map((k) => s.append(deposit(k, { messageId: `s${i}.${k}` }))),
            ),
          );
          const log = (await store.readLog()).events;
          expect(log.map((e) => e.position)).toEqual(Array.from({ length: 9 }, (_, i) => i + 1));
          expect(new Set(messageIds(log)).size).toBe(9);
          expect(results.map((r) => r.position).sort((x, y) => x! - y!)).toEqual(
            log.map((e) => e.position),
          );
          for (const s of streams) expect(await s.version()).toBe(3);
        });
      }
    });

    describe('settings', () => {
      it('indexes: false rejects every query, naming index; the log still works', async () => {
        const h = await setup();
        const store = h.store({ indexes: false });
        await store.stream(accountA).append(deposit(1, { userId: 'u', correlationId: 'c' }));
        for (const index of INDEXES) await expectInvalid(() => store.query(index, 'x'), 'index');
        expect((await store.readLog()).events).toHaveLength(1);
      });

      it("indexes: ['user'] keeps only the user index", async () => {
        const h = await setup();
        const store = h.store({ indexes: ['user'] });
        await store
          .stream(accountA)
          .append(deposit(1, { messageId: 'm1', userId: 'u', correlationId: 'c' }));
        expect(messageIds((await store.query('user', 'u')).events)).toEqual(['m1']);
        await expectInvalid(() => store.query('eventType', 'Deposited'), 'index');
        await expectInvalid(() => store.query('aggregateType', 'BankAccount'), 'index');
        await expectInvalid(() => store.query('correlation', 'c'), 'index');
      });

      it('globalLog: false rejects readLog, and requires indexes: false', async () => {
        const h = await setup();
        const store = h.store({ globalLog: false, indexes: false });
        const error = await failure(() => store.readLog());
        expect(isInvalidArgumentError(error)).toBe(true);
        expect((error as Error).message).toContain('globalLog');
        expect(() => h.store({ globalLog: false })).toThrow(
          expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
        );
        expect(() => h.store({ globalLog: false, indexes: ['user'] })).toThrow(
          expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'options.indexes' }),
        );
        expect(() => h.store({ indexes: ['bogus' as IndexName] })).toThrow(
          expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'options.indexes' }),
        );
      });

      it('with log and indexes off, appends work and write only stream keys', async () => {
        const h = await setup();
        const store = h.store({ globalLog: false, indexes: false });
        const stream = store.stream({ type: 'Account', id: 'only-stream' });
        const batch = [
          deposit(1, { messageId: 'a', userId: 'u', correlationId: 'c' }),
          deposit(2, { messageId: 'b' }),
        ];
        const result = await stream.append(batch, { expectedVersion: 0 });
        expect(result).toEqual({ version: 2, firstVersion: 1, deduplicated: false });
        expect(await stream.append(batch, { expectedVersion: 0 })).toEqual({
          ...result,
          deduplicated: true,
        });
        await stream.append(deposit(3), { expectedVersion: 2 });
        const events = await stream.read();
        expect(events.map((e) => e.version)).toEqual([1, 2, 3]);
        for (const e of events) expect(e).not.toHaveProperty('position');
        expect(await stream.versionOf('a')).toBe(1);

        // Every record and index key a stream owns names the stream; log and index
        // entries do not.
        const keys = await allKeys(h);
        expect(keys.length).toBeGreaterThan(0);
        for (const key of keys) expect(key).toContain('only-stream');

        // The same appends with the log and indexes on do write keys of their own, so
        // the check above can tell the difference.
        const other = await setup();
        await other.store().stream({ type: 'Account', id: 'only-stream' }).append(batch);
        const all = await allKeys(other);
        expect(all.filter((key) => !key.includes('only-stream')).length).toBeGreaterThan(0);
      });
    });

    describe('tenant isolation and names', () => {
      it('distinct (database, type, id) never share a key or events', async () => {
        const triple = fc.tuple(trickyName, trickyName, trickyName);
        // Names come from a small alphabet of separators, escapes and look-alikes, so the
        // 60 runs meet near-collisions ('a/b' vs 'a%2Fb', 'é' vs 'e\u0301') again and
        // again; a shared key shows up as a failed 'no-stream' append or a foreign event.
        await fc.assert(
          fc.asyncProperty(
            fc.uniqueArray(triple, {
              minLength: 2,
              maxLength: 8,
              selector: (t) => t.join('\u0000'),
            }),
            async (triples) => {
              const h = await setup();
              const store = h.store();
              const refs: StreamRef[] = triples.map(([database, type, id]) => ({
                database,
                type,
                id,
              }));
              for (const [i, ref] of refs.entries()) {
                const result = await store
                  .stream(ref)
                  .append(deposit(i, { messageId: 'same', userId: 'same' }), {
                    expectedVersion: 'no-stream',
                  });
                expect(result).toMatchObject({ version: 1, deduplicated: false });
              }
              for (const [i, ref] of refs.entries()) {
                const stream = store.stream(ref);
                const events = await stream.read();
                expect(events).toHaveLength(1);
                expect(events[0]).toMatchObject({
                  data: { amount: i },
                  metadata: {
                    database: ref.database,
                    aggregateType: ref.type,
                    aggregateId: ref.id,
                  },
                });
                expect(await stream.version()).toBe(1);
                expect(await stream.versionOf('same')).toBe(1);
              }
              const databases = new Set(refs.map((r) => r.database!));
              for (const database of databases) {
                const mine = refs.filter((r) => r.database === database);
                const log = (await store.readLog({ database })).events;
                expect(log.map((e) => e.metadata.aggregateId)).toEqual(mine.map((r) => r.id));
                expect(log.every((e) => e.metadata.database === database)).toBe(true);
                const byUser = (await store.query('user', 'same', { database, limit: 1000 }))
                  .events;
                expect(byUser).toHaveLength(mine.length);
                for (const type of new Set(mine.map((r) => r.type))) {
                  const byType = (await store.query('aggregateType', type, { database })).events;
                  expect(byType.map((e) => e.metadata.aggregateId)).toEqual(
                    mine.filter((r) => r.type === type).map((r) => r.id),
                  );
                }
              }
            },
          ),
          { numRuns: Math.max(1, Math.round(60 * scale)) },
        );
      });

      it('index queries and the log of one database never return events of another', async () => {
        const h = await setup();
        const store = h.store();
        for (const database of ['tenant-a', 'tenant-b', 'tenant-a/x', 'default']) {
          await store
            .stream({ database, ...accountA })
            .append(deposit(1, { messageId: database, userId: 'u', correlationId: 'c' }));
        }
        for (const database of ['tenant-a', 'tenant-b', 'tenant-a/x']) {
          const opts = { database };
          for (const [index, value] of [
            ['eventType', 'Deposited'],
            ['aggregateType', 'BankAccount'],
            ['user', 'u'],
            ['correlation', 'c'],
          ] as const) {
            expect(messageIds((await store.query(index, value, opts)).events)).toEqual([database]);
          }
          expect(messageIds((await store.readLog(opts)).events)).toEqual([database]);
        }
        expect(messageIds((await store.query('user', 'u')).events)).toEqual(['default']);
        expect(messageIds((await store.readLog()).events)).toEqual(['default']);
      });

      const bad: [string, unknown][] = [
        ['empty', ''],
        ['longer than 256 characters', 'x'.repeat(257)],
        ['a NUL character', 'a\u0000b'],
        ['a newline', 'a\nb'],
        ['a DEL character', 'a\u007Fb'],
        ['a lone high surrogate', 'a\uD800b'],
        ['a lone low surrogate', '\uDC00'],
        ['surrogates in the wrong order', '\uDE00\uD83D'],
        ['not a string', 42],
      ];
      for (const field of ['database', 'type', 'id'] as const) {
        it(`rejects a bad ${field}: empty, too long, control chars, lone surrogates`, async () => {
          const h = await setup();
          const store = h.store();
          for (const [, name] of bad) {
            const ref = { ...accountA, [field]: name } as StreamRef;
            await expectInvalid(() => store.stream(ref).append(deposit(1)), `ref.${field}`);
            await expectInvalid(() => store.stream(ref).read(), `ref.${field}`);
            await expectInvalid(() => store.open(ref), `ref.${field}`);
          }
          expect(await kvScan(h.kv, {})).toEqual([]);
          const longest = { ...accountA, [field]: 'y'.repeat(256) };
          expect(await store.stream(longest).append(deposit(1))).toMatchObject({ version: 1 });
        });
      }

      it('rejects a bad database in query and readLog (options.database)', async () => {
        const h = await setup();
        const store = h.store();
        for (const [, name] of bad) {
          await expectInvalid(
            () => store.query('user', 'u', { database: name as string }),
            'options.database',
          );
          await expectInvalid(
            () => store.readLog({ database: name as string }),
            'options.database',
          );
        }
      });
    });

    describe('corrupt data', () => {
      const damaged = async () => {
        const h = await setup();
        const store = h.store();
        const stream = store.stream(accountA);
        await stream.append([
          deposit(1, { messageId: 'm1', userId: 'u' }),
          deposit(2, { messageId: 'm2', userId: 'u' }),
          deposit(3, { messageId: 'm3', userId: 'u' }),
        ]);
        const entries = await kvScan(h.kv, {});
        return { h, store, entries };
      };

      const expectCorrupt = async (op: () => unknown, key: string) => {
        const error = await failure(op);
        expect(error).toBeInstanceOf(CorruptRecordError);
        expect(isCorruptRecordError(error)).toBe(true);
        expect(error).toMatchObject({ code: 'CORRUPT_RECORD', key });
        expect((error as Error).message).toContain(key);
      };

      // An index key cannot outlive its record (an adapter keeps them in one record, or
      // core writes them in one commit), so damage shows as a gap in the log or as a record
      // that is not the event its index key says.
      it('an event missing from the log is CORRUPT_RECORD, never skipped', async () => {
        const { h, store, entries } = await damaged();
        const event = entries.find((e) => isEventRecord(e.value, accountA.id, 2));
        expect(event).toBeDefined();
        await kvCommit(h.kv, { deletes: [event!.key] });
        const logKey = databaseKeys('default').log(2);
        const error = await failure(() => store.readLog());
        expect(isCorruptRecordError(error)).toBe(true);
        expect([event!.key, logKey]).toContain((error as CorruptRecordError).key);
        // Pages that do not reach the damage still read.
        expect(messageIds((await store.readLog({ limit: 1 })).events)).toEqual(['m1']);
        expect(messageIds((await store.readLog({ after: 2 })).events)).toEqual(['m3']);
        // A query either reports it or no longer finds the event; it never returns garbage.
        const query = await store.query('user', 'u').catch((e: unknown) => e);
        if (isCorruptRecordError(query)) expect(query.key).toBe(event!.key);
        else expect(messageIds((query as QueryPage<BankEvent>).events)).toEqual(['m1', 'm3']);
      });

      it('an index key that does not end with a position is CORRUPT_RECORD naming it', async () => {
        const { h, store, entries } = await damaged();
        const first = entries.find((e) => isEventRecord(e.value, accountA.id, 1))!;
        const [userKey] = (
          await kvScan(h.kv, {
            by: 'index',
            prefix: databaseKeys('default').indexPrefix('user', 'u'),
          })
        ).map((e) => e.indexKey as string);
        const stray = `${userKey!.slice(0, userKey!.lastIndexOf('/'))}/not-a-position`;
        await kvCommit(h.kv, {
          puts: [
            { key: 'default/e/Stray/x/0000000000000001', value: first.value, indexKeys: [stray] },
          ],
        });
        await expectCorrupt(() => store.query('user', 'u'), stray);
        await expect(store.query('user', 'u')).rejects.toMatchObject({
          reason: 'key does not end with a position',
        });
      });

      it('an index key naming an event at another position is CORRUPT_RECORD naming it', async () => {
        const { h, store, entries } = await damaged();
        const first = entries.find((e) => isEventRecord(e.value, accountA.id, 1))!;
        const dbKeys = databaseKeys('default');
        // A record that is event 1 found under position 4 of the log and of an index.
        const logKey = dbKeys.log(4);
        const userKey =
          dbKeys.indexPrefix('user', 'u') + dbKeys.indexSuffix(encodeNumber(0), encodeNumber(4));
        await kvCommit(h.kv, {
          puts: [
            {
              key: 'default/e/Stray/x/0000000000000001',
              value: first.value,
              indexKeys: [logKey, userKey],
            },
            { key: dbKeys.logHead, value: { position: 4 } },
          ],
        });
        await expectCorrupt(() => store.readLog(), logKey);
        await expectCorrupt(() => store.query('user', 'u'), userKey);
      });

      it('an index key naming something that is not an event is CORRUPT_RECORD', async () => {
        const { h, store } = await damaged();
        const dbKeys = databaseKeys('default');
        const logKey = dbKeys.log(4);
        const typeKey =
          dbKeys.indexPrefix('eventType', 'Deposited') +
          dbKeys.indexSuffix(encodeNumber(0), encodeNumber(4));
        await kvCommit(h.kv, {
          puts: [
            {
              key: 'default/e/Stray/x/0000000000000001',
              value: { garbage: true },
              indexKeys: [logKey, typeKey],
            },
            { key: dbKeys.logHead, value: { position: 4 } },
          ],
        });
        expect(isCorruptRecordError(await failure(() => store.readLog()))).toBe(true);
        expect(
          isCorruptRecordError(await failure(() => store.query('eventType', 'Deposited'))),
        ).toBe(true);
      });
    });
  });
};
