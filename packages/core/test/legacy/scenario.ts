/**
 * The data set both legacy fixtures hold (packages/indexeddb/test/fixtures/legacy-v1.json,
 * packages/durable-object/test/fixtures/legacy-kv.json): the writes a store made with the
 * release before index keys, on a manual clock with counting ids, so that every run writes
 * the same data. Each backend's `generate-legacy.ts` runs it at commit 0f4a16c and dumps
 * its own storage; `answers.ts` records what that release answered on it.
 *
 * It runs against the sources of that commit as well as today's: it uses only the public
 * API both have, and imports core by relative path (a checkout of 0f4a16c gets this folder
 * copied in, see the generators' headers).
 */
import type { EventStore, EventStream, IndexName, StreamRef } from '../../src/index.js';
import { createManualClock } from '../../src/testing/index.js';

/** The commit whose sources wrote the fixtures (the storage layout before index keys). */
export const COMMIT = '0f4a16c';
export const INDEX_NAMES: readonly IndexName[] = [
  'eventType',
  'aggregateType',
  'user',
  'correlation',
];

export const START = Date.UTC(2026, 0, 1);
/** The open session's timeout: its lease outlives the generation (`meta.clock.end`). */
export const SESSION_TIMEOUT_MS = 86_400_000;
export const clock = createManualClock(START);
/** Moves time on between writes, by uneven steps so timestamps differ. */
let step = 0;
export const tick = (): void => clock.advance(30_000 + ((step++ * 7919) % 50_000));

/** UUID-shaped ids (as the default generator makes), counting; `tag` tells the makers apart. */
export const idGenerator = (tag: string): (() => string) => {
  let n = 0;
  return () => `${tag}000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
};

/** A deep copy: the fixture holds plain data, no value shared between two places. */
export const copy = <T>(value: T): T => structuredClone(value);

export type Json = Record<string, unknown>;

const ACC1: StreamRef = { type: 'BankAccount', id: 'acc-1' };
const ACC2: StreamRef = { type: 'BankAccount', id: 'acc-2' };
const ORDER: StreamRef = { type: 'Order', id: 'order 2026/001' }; // encoded in keys
const CART: StreamRef = { type: 'Cart', id: 'c-1' };
const INVOICE: StreamRef = { database: 'acme', type: 'Invoice', id: 'INV-0001' };
const ACME_ACC1: StreamRef = { database: 'acme', type: 'BankAccount', id: 'acc-1' };
export const STREAMS = [ACC1, ACC2, ORDER, CART, INVOICE, ACME_ACC1];
export const DATABASES = ['default', 'acme'];

export interface Input {
  readonly type: string;
  readonly data?: unknown;
  readonly metadata?: Json;
}

/** One append as made: what a test repeats to see it deduplicated. */
export interface AppendRecord {
  readonly ref: StreamRef;
  readonly events: Input[];
  readonly options: Json;
  readonly result: unknown;
  /** Made through the open session. */
  readonly throughSession: boolean;
}

/** The appends made since the last `takeAppends()`. */
let log: AppendRecord[] = [];

/** The appends recorded so far (for `retryAppends`); later ones are recorded afresh. */
export const takeAppends = (): AppendRecord[] => {
  const made = log;
  log = [];
  return made;
};

/** Appends `events` to `stream` a tick after the last write, and records the append. */
export const append = async (
  stream: EventStream,
  events: Input[],
  options: Json = {},
  session = false,
): Promise<void> => {
  tick();
  const result = await stream.append(events as never, options);
  log.push({
    ref: copy(stream.ref),
    events: copy(events),
    options,
    result,
    throughSession: session,
  });
};

/** `n` bytes, the same for the same `seed`. */
export const bytes = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (seed * 31 + i * 17) % 256);

/**
 * Writes the store's data set (databases `default` and `acme`, snapshots, an open session's
 * lease); returns the open session (left open: its lease stays).
 */
export const writeStore = async (store: EventStore) => {
  // default/BankAccount/acc-1: 30 events, two users, caller-given ids, schema v2, snapshots.
  const acc1 = store.stream(ACC1);
  await append(
    acc1,
    [
      {
        type: 'AccountOpened',
        data: { owner: 'Ann', currency: 'EUR', openedAt: new Date(clock.now() + 30_000) },
        metadata: {
          messageId: 'open-acc-1/1',
          userId: 'ann@example.com',
          correlationId: 'c-open-1',
        },
      },
      {
        type: 'Deposited',
        data: { amount: 100 },
        metadata: {
          messageId: 'open-acc-1/2',
          userId: 'ann@example.com',
          correlationId: 'c-open-1',
          causationId: 'open-acc-1/1',
        },
      },
    ],
    { expectedVersion: 'no-stream' },
  );
  for (let version = 3; version <= 29; version++) {
    const user = version % 3 === 0 ? 'bob' : 'ann@example.com';
    const deposit = version % 4 !== 0;
    const metadata: Json = {
      userId: user,
      correlationId: `c-acc-1-${Math.floor(version / 5)}`,
      ...(version % 2 === 0 ? { causationId: `cause-${version - 1}` } : {}),
      ...(version >= 15 ? { schemaVersion: 2 } : {}),
      ...(version % 5 === 0
        ? { messageId: `cmd:${deposit ? 'deposit' : 'withdraw'}/${version}` }
        : {}),
    };
    const amount = (version * 13) % 70;
    await append(
      acc1,
      [
        deposit
          ? { type: 'Deposited', data: { amount, reference: `ref ${version}` }, metadata }
          : { type: 'Withdrawn', data: { amount, fee: version >= 15 ? 0.5 : 0 }, metadata },
      ],
      version % 2 === 0 ? { expectedVersion: version - 1 } : {},
    );
    if (version === 10) {
      await acc1.saveSnapshot(10, { balance: 415, updatedAt: new Date(clock.now()) });
    }
    if (version === 20) {
      await acc1.saveSnapshot(20, {
        balance: 780,
        updatedAt: new Date(clock.now()),
        monthly: new Map([
          ['2026-01', 600],
          ['2026-02', 180],
        ]),
      });
    }
  }
  await append(acc1, [
    {
      type: 'StatementIssued',
      data: {
        period: { from: new Date(START), to: new Date(clock.now()) },
        totals: new Map([
          ['in', 1030],
          ['out', 250],
        ]),
        pdf: bytes(24, 1),
      },
      metadata: { userId: 'system', correlationId: 'c-statement-1', schemaVersion: 3 },
    },
  ]);

  // default/BankAccount/acc-2: 6 events, then a session that appends the 7th and stays open.
  const acc2 = store.stream(ACC2);
  await append(
    acc2,
    [
      {
        type: 'AccountOpened',
        data: { owner: 'Bob', currency: 'USD', openedAt: new Date(clock.now()) },
      },
      { type: 'Deposited', data: { amount: 50 } },
    ],
    { expectedVersion: 'no-stream' },
  );
  for (let i = 0; i < 4; i++) {
    await append(acc2, [
      {
        type: 'Deposited',
        data: { amount: 10 + i },
        metadata: { userId: 'bob', correlationId: 'c-acc-2' },
      },
    ]);
  }

  // default/Order/order 2026/001: Dates, Maps, Uint8Arrays, a Set and a bigint.
  const order = store.stream(ORDER);
  const orderMeta = (messageId: string, extra: Json = {}) => ({
    messageId,
    userId: 'carol',
    correlationId: 'c-order-1',
    ...extra,
  });
  await append(order, [
    {
      type: 'OrderPlaced',
      data: {
        placedAt: new Date(clock.now()),
        lines: new Map([
          ['sku-1', { qty: 2, price: 9.5 }],
          ['sku-2', { qty: 1, price: 23 }],
        ]),
        attachment: bytes(16, 2),
      },
      metadata: orderMeta('order-1/placed'),
    },
  ]);
  await append(
    order,
    [
      {
        type: 'ItemAdded',
        data: { sku: 'sku-3', qty: 5 },
        metadata: orderMeta('order-1/item-3', { causationId: 'order-1/placed' }),
      },
      {
        type: 'AddressChanged',
        data: { address: { street: 'Rue Émile 4', city: 'Genève', zip: null } },
        metadata: orderMeta('order-1/address', { causationId: 'order-1/placed', schemaVersion: 2 }),
      },
    ],
    { expectedVersion: 1 },
  );
  await append(
    order,
    [
      {
        type: 'OrderPaid',
        data: { paidAt: new Date(clock.now()), amount: 42.5, receipt: bytes(8, 3) },
        metadata: orderMeta('order-1/paid'),
      },
    ],
    { expectedVersion: 'exists' },
  );
  await append(order, [
    {
      type: 'OrderShipped',
      data: { tags: new Set(['gift', 'express']), tracking: 123456789012345678901234567890n },
      metadata: orderMeta('order-1/shipped', { causationId: 'order-1/paid' }),
    },
  ]);

  // default/Cart/c-1: one event without data or metadata.
  await append(store.stream(CART), [{ type: 'CartAbandoned' }]);

  // acme/Invoice/INV-0001: 12 events in another database.
  const invoice = store.stream(INVOICE);
  const acmeMeta = (correlationId: string, extra: Json = {}) => ({
    userId: 'dave@acme.test',
    correlationId,
    ...extra,
  });
  await append(invoice, [
    {
      type: 'InvoiceIssued',
      data: {
        dueDate: new Date(START + 30 * 86_400_000),
        amounts: new Map([
          ['net', 1000],
          ['vat', 200],
        ]),
      },
      metadata: acmeMeta('c-inv-1', { messageId: 'inv-1/issued' }),
    },
  ]);
  for (let line = 1; line <= 8; line++) {
    await append(invoice, [
      {
        type: 'LineAdded',
        data: { line, text: `Item ${line}`, cents: line * 1250 },
        metadata: acmeMeta(`c-inv-line-${line}`, { causationId: 'inv-1/issued' }),
      },
    ]);
  }
  await append(
    invoice,
    [
      { type: 'InvoiceSent', data: { to: ['ap@customer.test'] }, metadata: acmeMeta('c-inv-send') },
      {
        type: 'PaymentReceived',
        data: { cents: 120_000, receivedAt: new Date(clock.now()) },
        metadata: acmeMeta('c-inv-pay', { messageId: 'bank-tx #77', userId: 'bank-bot' }),
      },
      { type: 'InvoicePaid', metadata: acmeMeta('c-inv-pay', { causationId: 'bank-tx #77' }) },
    ],
    { expectedVersion: 9 },
  );

  // acme/BankAccount/acc-1: same type and id as a stream of the default database.
  const acmeAcc = store.stream(ACME_ACC1);
  await append(acmeAcc, [
    {
      type: 'AccountOpened',
      data: { owner: 'Acme', currency: 'CHF', openedAt: new Date(clock.now()) },
      metadata: { userId: 'dave@acme.test' },
    },
  ]);
  await append(acmeAcc, [
    { type: 'Deposited', data: { amount: 5 }, metadata: { userId: 'dave@acme.test' } },
  ]);
  await append(acmeAcc, [
    { type: 'AccountClosed', metadata: { userId: 'dave@acme.test', correlationId: 'c-close' } },
  ]);

  // The open session on acc-2: its lease is in the dump.
  tick();
  const session = await store.open(ACC2, { sessionTimeoutMs: SESSION_TIMEOUT_MS });
  await append(
    session,
    [
      {
        type: 'Withdrawn',
        data: { amount: 7, fee: 0 },
        metadata: { userId: 'bob', messageId: 'acc-2/w-1' },
      },
    ],
    { expectedVersion: 6 },
    true,
  );
  return session;
};
