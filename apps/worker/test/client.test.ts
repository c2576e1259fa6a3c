import { createHttpEventStore, type FetchLike, HttpError, isHttpError } from '@eventkv/client';
import {
  isIdempotencyIdNotFoundError,
  isInvalidArgumentError,
  isNotOpenError,
  isOpenFailedError,
  isSessionExpiredError,
  isSnapshotVersionNotFoundError,
  isStreamLockedError,
  isVersionMismatchError,
  type RecordedEvent,
} from '@eventkv/core';
import { describe, expect, it, vi } from 'vitest';
import { freshDatabase, ORIGIN, send, sendDatabaseRouted, tokenFor } from './helpers';

type BankEvent =
  | { type: 'Opened'; data: { owner: string; at: Date } }
  | { type: 'Deposited'; data: { amount: bigint; tags: Set<string>; fx: Map<string, number> } }
  | { type: 'Closed' };

const fetchFn: FetchLike = (request) => send(request);

const storeFor = async (db: string) =>
  createHttpEventStore<BankEvent>(ORIGIN, { token: await tokenFor(db), fetch: fetchFn });

const opened = (owner: string): BankEvent => ({
  type: 'Opened',
  data: { owner, at: new Date(Date.UTC(2026, 4, 1)) },
});
const deposited = (amount: bigint): BankEvent => ({
  type: 'Deposited',
  data: { amount, tags: new Set(['salary']), fx: new Map([['EUR', 1.1]]) },
});

describe('createHttpEventStore', () => {
  it('round-trips Dates, BigInt, Map and Set through the Worker', async () => {
    const db = freshDatabase();
    const store = await storeFor(db);
    const stream = store.stream({ type: 'Account', id: '1' });
    expect(stream.ref).toEqual({ database: db, type: 'Account', id: '1' });
    const result = await stream.append([opened('ada'), deposited(12345678901234567890n)], {
      expectedVersion: 'no-stream',
    });
    expect(result).toMatchObject({ version: 2, firstVersion: 1, deduplicated: false });
    const [first, second] = await stream.read();
    expect(first!.type === 'Opened' && first!.data.at).toEqual(new Date(Date.UTC(2026, 4, 1)));
    if (second!.type !== 'Deposited') throw new Error('expected a deposit');
    expect(second!.data.amount).toBe(12345678901234567890n);
    expect(second!.data.tags).toEqual(new Set(['salary']));
    expect(second!.data.fx.get('EUR')).toBe(1.1);
    expect(second!.metadata).toMatchObject({
      database: db,
      aggregateType: 'Account',
      aggregateId: '1',
    });
    expect(await stream.version()).toBe(2);
    expect((await stream.read({ direction: 'backward', limit: 1 })).map((e) => e.version)).toEqual([
      2,
    ]);
    expect(await stream.read({ from: 5 })).toEqual([]);
  });

  it('rethrows store errors as core error classes with their fields', async () => {
    const db = freshDatabase();
    const stream = (await storeFor(db)).stream({ type: 'Account', id: '1' });
    await stream.append(opened('ada'));
    const mismatch = await stream
      .append({ type: 'Closed' }, { expectedVersion: 0 })
      .catch((e) => e);
    expect(isVersionMismatchError(mismatch)).toBe(true);
    expect(mismatch).toMatchObject({ expected: 0, actual: 1, stream: { database: db } });
    expect(isIdempotencyIdNotFoundError(await stream.versionOf('nope').catch((e) => e))).toBe(true);
    expect(isSnapshotVersionNotFoundError(await stream.snapshotAt(1).catch((e) => e))).toBe(true);
    expect(isInvalidArgumentError(await stream.read({ from: 0 }).catch((e) => e))).toBe(true);
    expect(await stream.version()).toBe(1);
  });

  it('keeps idempotent retries and message id lookups', async () => {
    const stream = (await storeFor(freshDatabase())).stream({ type: 'Account', id: '1' });
    const event = { ...opened('ada'), metadata: { messageId: 'open-1' } };
    await stream.append(event);
    expect(await stream.append(event)).toMatchObject({ version: 1, deduplicated: true });
    expect(await stream.versionOf('open-1')).toBe(1);
  });

  it('saves, reads, loads, folds and clears snapshots', async () => {
    const stream = (await storeFor(freshDatabase())).stream({ type: 'Account', id: '1' });
    await stream.append([
      opened('ada'),
      deposited(1n),
      deposited(2n),
      deposited(3n),
      deposited(4n),
    ]);
    const sum = (state: bigint | undefined, events: RecordedEvent<BankEvent>[]) =>
      events.reduce(
        (total, e) => (e.type === 'Deposited' ? total + e.data.amount : total),
        state ?? 0n,
      );
    expect(await stream.snapshotEvery(2, sum)).toEqual([2, 4]);
    expect(await stream.snapshotVersions()).toEqual([2, 4]);
    expect((await stream.latestSnapshot<bigint>())?.state).toBe(6n);
    expect((await stream.snapshotAt<bigint>(2)).state).toBe(1n);
    const loaded = await stream.load<bigint>();
    expect(loaded.snapshot?.version).toBe(4);
    expect(loaded.events.map((e) => e.version)).toEqual([5]);
    expect(loaded.version).toBe(5);
    await stream.saveSnapshot(5, 10n);
    await stream.deleteSnapshot(2);
    expect(await stream.snapshotVersions()).toEqual([4, 5]);
    expect(await stream.clearSnapshots()).toBe(2);
    expect(await stream.latestSnapshot()).toBeUndefined();
  });

  it('opens sessions that lock the stream, renews, resumes and closes them', async () => {
    const db = freshDatabase();
    const store = await storeFor(db);
    const ref = { type: 'Account', id: '1' };
    const session = await store.open(ref, { sessionTimeoutMs: 30_000 });
    expect(session.closed).toBe(false);
    expect(session.expiresAt).toBeGreaterThan(Date.now());
    await session.append(opened('ada'));
    expect(
      isStreamLockedError(
        await store
          .stream(ref)
          .append({ type: 'Closed' })
          .catch((e) => e),
      ),
    ).toBe(true);
    expect(isOpenFailedError(await store.open(ref).catch((e) => e))).toBe(true);

    const again = await store.resume(ref, session.sessionId);
    await again.append(deposited(1n));
    const before = session.expiresAt;
    await session.renew();
    expect(session.expiresAt).toBeGreaterThanOrEqual(before);

    await session.close();
    expect(session.closed).toBe(true);
    await session.close();
    expect(isNotOpenError(await session.append({ type: 'Closed' }).catch((e) => e))).toBe(true);
    expect(isNotOpenError(await again.append({ type: 'Closed' }).catch((e) => e))).toBe(true);
    expect(await store.stream(ref).append({ type: 'Closed' })).toMatchObject({ version: 3 });
  });

  it('closes a session with await using', async () => {
    const store = await storeFor(freshDatabase());
    const ref = { type: 'Account', id: '1' };
    {
      await using session = await store.open(ref);
      await session.append(opened('ada'));
    }
    await using next = await store.open(ref);
    expect(await next.version()).toBe(1);
  });

  it('reports an expired session as SessionExpiredError', async () => {
    const store = await storeFor(freshDatabase());
    const session = await store.open({ type: 'Account', id: '1' }, { sessionTimeoutMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(isSessionExpiredError(await session.append(opened('ada')).catch((e) => e))).toBe(true);
  });

  it('queries indexes and reads the global log (database routing)', async () => {
    const db = freshDatabase();
    const store = createHttpEventStore<BankEvent>(ORIGIN, {
      token: await tokenFor(db),
      fetch: sendDatabaseRouted,
    });
    await store.stream({ type: 'Account', id: '1' }).append([opened('ada'), deposited(5n)]);
    await store.stream({ type: 'Account', id: '2' }).append(opened('bob'));
    const page = await store.query('eventType', 'Opened', { since: new Date(0), limit: 1 });
    expect(page.events).toHaveLength(1);
    const next = await store.query('eventType', 'Opened', { cursor: page.cursor! });
    expect(next.events.map((e) => e.metadata.aggregateId)).toEqual(['2']);
    const log = await store.readLog({ after: 1 });
    expect(log.events.map((e) => e.version)).toEqual([2, 1]);
    expect(log.position).toBe(3);
  });

  it('tails a stream by long-polling', async () => {
    const store = await storeFor(freshDatabase());
    const stream = store.stream({ type: 'Account', id: '1' });
    await stream.append(opened('ada'));
    const seen: number[] = [];
    const stop = stream.subscribe((events) => seen.push(...events.map((e) => e.version)), {
      from: 1,
      pollIntervalMs: 10,
    });
    await stream.append(deposited(1n));
    await vi.waitFor(() => expect(seen).toHaveLength(2));
    stop();
    expect(seen).toEqual([1, 2]);
  });

  it('raises HttpError for failures of HTTP itself', async () => {
    const db = freshDatabase();
    const forged = createHttpEventStore(ORIGIN, {
      token: await tokenFor(db, {}, 'x'.repeat(40)),
      fetch: fetchFn,
    });
    const unauthorized = await forged
      .stream({ type: 'A', id: '1' })
      .version()
      .catch((e) => e);
    expect(unauthorized).toBeInstanceOf(HttpError);
    expect(isHttpError(unauthorized)).toBe(true);
    expect(unauthorized).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });

    const otherTenant = createHttpEventStore(ORIGIN, {
      token: await tokenFor(db),
      database: 'else',
      fetch: fetchFn,
    });
    expect(await otherTenant.readLog().catch((e) => e)).toMatchObject({
      code: 'FORBIDDEN',
      status: 403,
    });

    const offline = createHttpEventStore(ORIGIN, {
      token: await tokenFor(db),
      fetch: () => Promise.reject(new TypeError('network down')),
    });
    expect(
      await offline
        .stream({ type: 'A', id: '1' })
        .version()
        .catch((e) => e),
    ).toMatchObject({
      code: 'NETWORK_FAILURE',
      status: 0,
    });
  });

  it('refuses names HTTP cannot carry before sending anything', async () => {
    let sent = 0;
    const store = createHttpEventStore(ORIGIN, {
      token: await tokenFor('acme'),
      fetch: (request) => {
        sent += 1;
        return send(request);
      },
    });
    expect(() => store.stream({ type: 'Account', id: '..' })).toThrow(/dot segment/);
    expect(() => store.stream({ type: '', id: '1' })).toThrow(/non-empty/);
    expect(() => createHttpEventStore(ORIGIN, { token: '' })).toThrow(/token/);
    expect(sent).toBe(0);
  });
});
