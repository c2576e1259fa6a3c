import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import {
  type DuplicateIdempotencyIdError,
  type IdempotencyIdNotFoundError,
  type InvalidArgumentError,
  isDuplicateIdempotencyIdError,
  isIdempotencyIdNotFoundError,
  isInvalidArgumentError,
  isNotOpenError,
  isOpenFailedError,
  isSnapshotVersionNotFoundError,
  isStreamLockedError,
  isVersionMismatchError,
  isVersionNotFoundError,
  type OpenFailedError,
  type RecordedEvent,
  SnapshotVersionNotFoundError,
  VersionMismatchError,
} from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  databaseObjectName,
  eventStoreObjectRpc,
  objectNameFor,
  streamObjectName,
  unwrapResult,
} from '../src/index.js';
import { type BankEvent, deposit, failure, uniqueRef } from './helpers.js';

const store = createDurableObjectEventStore<BankEvent>(env.STORE);

describe("createDurableObjectEventStore, 'stream' routing (default)", () => {
  it('appends and reads through the object: slices, backwards, version, versionOf, load', async () => {
    const ref = uniqueRef();
    const stream = store.stream(ref);
    expect(await stream.version()).toBe(0);
    const opened = new Date('2026-01-02T03:04:05Z');
    const first = await stream.append(
      { type: 'AccountOpened', data: { owner: 'ada', openedAt: opened } },
      { expectedVersion: 'no-stream' },
    );
    expect(first).toMatchObject({ version: 1, firstVersion: 1, deduplicated: false });
    await stream.append([deposit(10, 'm-2'), deposit(20), deposit(30)], { expectedVersion: 1 });
    expect(await stream.version()).toBe(4);
    expect(await stream.versionOf('m-2')).toBe(2);
    const all = await stream.read();
    expect(all.map((e) => e.version)).toEqual([1, 2, 3, 4]);
    const opening = all[0] as RecordedEvent<BankEvent> & { type: 'AccountOpened' };
    // Dates survive the storage and the RPC hop as Dates.
    expect(opening.data.openedAt).toBeInstanceOf(Date);
    expect(opening.data.openedAt.getTime()).toBe(opened.getTime());
    expect(opening.metadata).toMatchObject({
      aggregateType: 'BankAccount',
      aggregateId: ref.id,
      database: 'default',
    });
    expect((await stream.read({ from: 2, to: 3 })).map((e) => e.version)).toEqual([2, 3]);
    expect((await stream.read({ direction: 'backward', limit: 2 })).map((e) => e.version)).toEqual([
      4, 3,
    ]);
    expect(await stream.read({ from: 9 })).toEqual([]);
    await stream.saveSnapshot(3, { balance: 30 });
    const loaded = await stream.load<{ balance: number }>();
    expect(loaded.snapshot).toMatchObject({ version: 3, state: { balance: 30 } });
    expect(loaded.events.map((e) => e.version)).toEqual([4]);
    expect(loaded.version).toBe(4);
  });

  it('a retried append is deduplicated and returns the same version', async () => {
    const stream = store.stream(uniqueRef());
    const once = await stream.append([deposit(1, 'a'), deposit(2, 'b')]);
    const again = await stream.append([deposit(1, 'a'), deposit(2, 'b')]);
    expect(again).toMatchObject({ version: once.version, deduplicated: true });
    expect(await stream.version()).toBe(2);
  });

  it('errors arrive as the classes a local store throws, with their fields', async () => {
    const ref = uniqueRef();
    const stream = store.stream(ref);
    await stream.append(deposit(1, 'only'));

    const mismatch = await failure(stream.append(deposit(2), { expectedVersion: 0 }));
    expect(mismatch).toBeInstanceOf(VersionMismatchError);
    expect(isVersionMismatchError(mismatch)).toBe(true);
    expect(mismatch).toMatchObject({
      expected: 0,
      actual: 1,
      stream: { database: 'default', type: ref.type, id: ref.id },
    });

    const unknownId = await failure(stream.versionOf('nope'));
    expect(isIdempotencyIdNotFoundError(unknownId)).toBe(true);
    expect((unknownId as IdempotencyIdNotFoundError).messageId).toBe('nope');

    const duplicate = await failure(stream.append([deposit(5), deposit(6, 'only')]));
    expect(isDuplicateIdempotencyIdError(duplicate)).toBe(true);
    expect((duplicate as DuplicateIdempotencyIdError).existingVersion).toBe(1);

    const noSnapshot = await failure(stream.snapshotAt(1));
    expect(noSnapshot).toBeInstanceOf(SnapshotVersionNotFoundError);
    expect(isVersionNotFoundError(await failure(stream.saveSnapshot(7, {})))).toBe(true);

    const badRead = await failure(stream.read({ from: 0 }));
    expect(isInvalidArgumentError(badRead)).toBe(true);
    expect((badRead as InvalidArgumentError).field).toBe('options.from');
    // Nothing of the failed appends was written.
    expect(await stream.version()).toBe(1);
  });

  it('snapshots: save, latest, at, versions, delete, clear, snapshotEvery', async () => {
    const stream = store.stream(uniqueRef());
    await stream.append([1, 2, 3, 4, 5].map((n) => deposit(n)));
    const saved = await stream.snapshotEvery<number>(2, (state, events) =>
      events.reduce((sum, e) => sum + (e.type === 'Deposited' ? e.data.amount : 0), state ?? 0),
    );
    expect(saved).toEqual([2, 4]);
    expect(await stream.snapshotVersions()).toEqual([2, 4]);
    expect(await stream.latestSnapshot()).toMatchObject({ version: 4, state: 10 });
    expect(await stream.snapshotAt(2)).toMatchObject({ version: 2, state: 3 });
    await stream.deleteSnapshot(4);
    expect(await stream.snapshotVersions()).toEqual([2]);
    expect(isSnapshotVersionNotFoundError(await failure(stream.deleteSnapshot(4)))).toBe(true);
    expect(await stream.clearSnapshots()).toBe(1);
    expect(await stream.latestSnapshot()).toBeUndefined();
  });

  it('each stream lives in its own object, named by streamObjectName', async () => {
    const a = uniqueRef();
    const b = { ...a, id: `${a.id}-b` };
    await store.stream(a).append(deposit(1));
    await store.stream(b).append([deposit(2), deposit(3)]);
    const keysOf = (ref: typeof a) =>
      runInDurableObject(env.STORE.get(env.STORE.idFromName(streamObjectName(ref))), (_i, state) =>
        [...state.storage.kv.list({ prefix: 'default/e/' })].map(([key]) => key),
      );
    expect(await keysOf(a)).toHaveLength(1);
    expect(await keysOf(b)).toHaveLength(2);
  });

  it('stream names are injective: refs that differ only in where a separator falls get different objects', () => {
    const names = [
      { database: 'a/b', type: 'c', id: 'd' },
      { database: 'a', type: 'b/c', id: 'd' },
      { database: 'a', type: 'b', id: 'c/d' },
      { type: 'x', id: 'y' },
      { database: 'default', type: 'x', id: 'y' },
    ].map(streamObjectName);
    expect(new Set(names.slice(0, 3)).size).toBe(3);
    // The default database is the same stream whether named or not.
    expect(names[3]).toBe(names[4]);
  });

  it('query and readLog are served by the database feed, with this store reading its own writes', async () => {
    const database = `feed-${crypto.randomUUID()}`;
    const ref = uniqueRef(database);
    await store.stream(ref).append([deposit(1, 'f1'), deposit(2, 'f2')]);
    expect(store.capabilities).toMatchObject({ readLog: true, databaseReads: 'feed' });
    const log = await store.readLog({ database });
    expect(log.events.map((e) => [e.metadata.messageId, e.position])).toEqual([
      ['f1', 1],
      ['f2', 2],
    ]);
    const page = await store.query('eventType', 'Deposited', { database });
    expect(page.events.map((e) => e.metadata.messageId)).toEqual(['f1', 'f2']);
    // The stream itself carries no positions: they are the feed's.
    expect((await store.stream(ref).read())[0]).not.toHaveProperty('position');
  });

  it('an object addressed by one stream name refuses another stream', async () => {
    const a = uniqueRef();
    const stub = env.STORE.get(env.STORE.idFromName(streamObjectName(a)));
    const result = await stub.version({ ref: uniqueRef() });
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', field: 'ref' } });
    expect(await stub.version({ ref: a })).toEqual({ ok: true, value: 0 });
  });
});

describe('sessions through the object', () => {
  it('open takes the lease: the session writes, others are refused, close releases it', async () => {
    const ref = uniqueRef();
    const session = await store.open(ref);
    expect(session.sessionId).toEqual(expect.any(String));
    expect(session.expiresAt).toBeGreaterThan(Date.now());
    await session.append(deposit(1));
    expect(isStreamLockedError(await failure(store.stream(ref).append(deposit(2))))).toBe(true);
    const second = await failure(store.open(ref));
    expect(isOpenFailedError(second)).toBe(true);
    expect((second as OpenFailedError).holder).toBe(session.sessionId);

    const before = session.expiresAt;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await session.renew();
    expect(session.expiresAt).toBeGreaterThan(before);

    await session.close();
    expect(session.closed).toBe(true);
    expect(isNotOpenError(await failure(session.append(deposit(3))))).toBe(true);
    await session.close(); // idempotent
    await store.stream(ref).append(deposit(3));
    expect(await store.stream(ref).version()).toBe(2);
  });

  it('resume re-attaches by id from another store instance; unknown ids are refused', async () => {
    const ref = uniqueRef();
    const session = await store.open(ref);
    const elsewhere = createDurableObjectEventStore<BankEvent>(env.STORE);
    const resumed = await elsewhere.resume(ref, session.sessionId);
    expect(resumed.expiresAt).toBe(session.expiresAt);
    await resumed.append(deposit(1));
    expect(await session.version()).toBe(1);
    await session.close();
    expect(isNotOpenError(await failure(elsewhere.resume(ref, session.sessionId)))).toBe(true);
    // The resumed handle's lease is gone: its next write is refused by the object.
    expect(isNotOpenError(await failure(resumed.append(deposit(2))))).toBe(true);
  });

  it('await using closes the session', async () => {
    const ref = uniqueRef();
    {
      await using session = await store.open(ref);
      await session.append(deposit(1));
    }
    await store.stream(ref).append(deposit(2));
    expect(await store.stream(ref).version()).toBe(2);
  });

  it('subscribe long-polls the object and delivers every event once, in order', async () => {
    const ref = uniqueRef();
    const stream = store.stream(ref);
    await stream.append(deposit(1));
    const seen: number[] = [];
    const errors: unknown[] = [];
    const stop = stream.subscribe((events) => seen.push(...events.map((e) => e.version)), {
      from: 1,
      pollIntervalMs: 5,
      onError: (error) => errors.push(error),
    });
    try {
      await stream.append([deposit(2), deposit(3)]);
      for (let i = 0; i < 200 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 5));
      expect(seen).toEqual([1, 2, 3]);
    } finally {
      stop();
    }
    await stream.append(deposit(4));
    await new Promise((r) => setTimeout(r, 30));
    expect(seen).toEqual([1, 2, 3]);
    expect(errors).toEqual([]);
  });
});

describe("createDurableObjectEventStore, 'database' routing", () => {
  const byDatabase = createDurableObjectEventStore<BankEvent>(env.STORE, { routing: 'database' });

  it('serves query and readLog over every stream of the database, and only that database', async () => {
    const database = `tenant-${crypto.randomUUID()}`;
    const a = uniqueRef(database);
    const b = uniqueRef(database);
    await byDatabase.stream(a).append(deposit(1));
    await byDatabase.stream(b).append({ type: 'Withdrawn', data: { amount: 2 } });
    await byDatabase.stream(a).append(deposit(3));
    await byDatabase.stream(uniqueRef(`other-${database}`)).append(deposit(4));

    const log = await byDatabase.readLog({ database });
    expect(log.events.map((e) => [e.metadata.aggregateId, e.version])).toEqual([
      [a.id, 1],
      [b.id, 1],
      [a.id, 2],
    ]);
    expect(log.position).toBe(3);
    const deposits = await byDatabase.query('eventType', 'Deposited', { database });
    expect(deposits.events.map((e) => e.data)).toEqual([{ amount: 1 }, { amount: 3 }]);
    const aggregate = await byDatabase.query('aggregateType', 'BankAccount', {
      database,
      limit: 2,
    });
    expect(aggregate.events).toHaveLength(2);
    expect(aggregate.cursor).toEqual(expect.any(String));
    const rest = await byDatabase.query('aggregateType', 'BankAccount', {
      database,
      cursor: aggregate.cursor!,
    });
    expect(rest.events.map((e) => e.version)).toEqual([2]);
  });

  it('sessions and errors work the same', async () => {
    const ref = uniqueRef(`tenant-${crypto.randomUUID()}`);
    const session = await byDatabase.open(ref);
    await session.append(deposit(1));
    expect(isOpenFailedError(await failure(byDatabase.open(ref)))).toBe(true);
    const mismatch = await failure(session.append(deposit(2), { expectedVersion: 5 }));
    expect(mismatch).toBeInstanceOf(VersionMismatchError);
    await session.close();
  });
});

describe('calling the object directly', () => {
  it('objectNameFor picks the stream or database object; unwrapResult returns values and rebuilds errors', async () => {
    const database = `tenant-${crypto.randomUUID()}`;
    const ref = uniqueRef(database);
    expect(objectNameFor(ref, 'stream')).toBe(streamObjectName(ref));
    expect(objectNameFor(ref, 'database')).toBe(databaseObjectName(database));
    expect(databaseObjectName()).toBe(databaseObjectName('default'));

    const stub = eventStoreObjectRpc(
      env.STORE.get(env.STORE.idFromName(objectNameFor(ref, 'database'))),
    );
    const appended = unwrapResult(await stub.append({ ref, events: [deposit(1), deposit(2)] }));
    expect(appended).toMatchObject({ version: 2, firstVersion: 1 });
    const log = unwrapResult(await stub.readLog({ options: { database } }));
    expect(log.events.map((e) => e.version)).toEqual([1, 2]);

    const mismatch = await failure(() =>
      stub.append({ ref, events: deposit(3), options: { expectedVersion: 0 } }).then(unwrapResult),
    );
    expect(mismatch).toBeInstanceOf(VersionMismatchError);
    expect(mismatch).toMatchObject({ expected: 0, actual: 2 });
    // The database object refuses database-wide reads of another database.
    const other = await stub.readLog({ options: { database: `${database}-x` } });
    expect(other).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', field: 'routing' },
    });
  });
});

describe('option checks', () => {
  it('refuses an unknown routing and a missing namespace', () => {
    expect(() =>
      createDurableObjectEventStore(env.STORE, { routing: 'tenant' as 'stream' }),
    ).toThrow(/routing/);
    expect(() => createDurableObjectEventStore(undefined as unknown as typeof env.STORE)).toThrow(
      /namespace/,
    );
  });
});
