import { env } from 'cloudflare:workers';
import {
  type AppendResult,
  errorToJSON,
  isInvalidArgumentError,
  isStorageError,
  isVersionMismatchError,
  type RetryPolicy,
  type StorageError,
  VersionMismatchError,
} from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  databaseObjectName,
  type EventStoreObjectNamespace,
  eventStoreObjectRpc,
} from '../src/index.js';
import { failure } from './helpers.js';

type Outcome = 'ok' | Error | { code: string };

/** A platform failure of a call, with the flags Cloudflare documents. */
const platform = (flags: { retryable?: boolean; overloaded?: boolean }) =>
  Object.assign(new Error('Durable Object call failed'), flags);
const retryable = () => platform({ retryable: true });

const ref = { database: 'db', type: 'Account', id: '1' };
const appended: AppendResult = { version: 2, firstVersion: 1, deduplicated: false };

/**
 * A namespace whose objects answer each call with the next scripted outcome (the last one
 * repeats): a value, a thrown platform error, or an eventkv error result.
 */
const scripted = (outcomes: Outcome[], value: unknown, retry?: RetryPolicy | false) => {
  const calls: { method: string; arg: unknown }[] = [];
  const stub = new Proxy(
    {},
    {
      get: (_target, method: string) => async (arg: unknown) => {
        calls.push({ method, arg });
        const outcome = outcomes[Math.min(calls.length, outcomes.length) - 1]!;
        if (outcome instanceof Error) throw outcome;
        if (outcome === 'ok') return { ok: true, value };
        return { ok: false, error: { message: outcome.code, operation: method, ...outcome } };
      },
    },
  );
  const namespace = {
    idFromName: (name: string) => name as unknown as DurableObjectId,
    get: () => stub,
    retry: { baseDelayMs: 1, maxDelayMs: 2, ...retry },
  } as unknown as EventStoreObjectNamespace;
  if (retry === false) Object.assign(namespace, { retry: false });
  return { store: createDurableObjectEventStore(namespace, { routing: 'database' }), calls };
};

describe('createDurableObjectEventStore retries', () => {
  it('append: message ids once, before the first attempt; every retry sends the same events', async () => {
    const { store, calls } = scripted([retryable(), { code: 'STORAGE_FAILURE' }, 'ok'], appended);
    const result = await store
      .stream(ref)
      .append([{ type: 'A' }, { type: 'B', metadata: { messageId: 'mine' } }], {
        expectedVersion: 0,
      });
    expect(result).toEqual(appended);
    expect(calls).toHaveLength(3);
    const sent = calls.map(
      (c) =>
        c.arg as {
          events: { metadata: { messageId: string } }[];
          options: { expectedVersion: unknown };
        },
    );
    const ids = sent.map((arg) => arg.events.map((e) => e.metadata.messageId));
    expect(ids[0]![0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[0]![1]).toBe('mine');
    expect(ids[1]).toEqual(ids[0]);
    expect(ids[2]).toEqual(ids[0]);
    expect(sent[0]!.options).toEqual({ expectedVersion: 0 });
  });

  it('retries what the platform marks retryable, never an overloaded object or an unmarked failure', async () => {
    const cases: [Error, number][] = [
      [retryable(), 2],
      [platform({ retryable: true, overloaded: true }), 1],
      [platform({ overloaded: true }), 1],
      [platform({}), 1],
      [new TypeError('stub broke'), 1],
    ];
    for (const [error, attempts] of cases) {
      const { store, calls } = scripted([error, 'ok'], 3);
      const outcome = await store
        .stream(ref)
        .version()
        .then(
          (v) => v,
          (e) => e,
        );
      expect(calls, String(error)).toHaveLength(attempts);
      if (attempts === 1) {
        expect(isStorageError(outcome)).toBe(true);
        expect((outcome as StorageError).cause).toBe(error);
      } else {
        expect(outcome).toBe(3);
      }
    }
  });

  it('retries a STORAGE_FAILURE the object reports; every other error it reports is final', async () => {
    const storage = scripted([{ code: 'STORAGE_FAILURE' }, 'ok'], 7);
    expect(await storage.store.stream(ref).version()).toBe(7);
    expect(storage.calls).toHaveLength(2);
    const mismatch = errorToJSON(new VersionMismatchError(ref, 0, 2));
    const final = scripted([mismatch, 'ok'], appended);
    expect(
      isVersionMismatchError(await failure(final.store.stream(ref).append({ type: 'A' }))),
    ).toBe(true);
    expect(final.calls).toHaveLength(1);
  });

  it('retries the operations that may run twice, and never open, deleteSnapshot, clearSnapshots', async () => {
    const session = { sessionId: 's', expiresAt: Date.now() + 60_000 };
    const repeatable: [string, (s: ReturnType<typeof scripted>['store']) => Promise<unknown>][] = [
      ['read', (s) => s.stream(ref).read()],
      ['load', (s) => s.stream(ref).load()],
      ['versionOf', (s) => s.stream(ref).versionOf('m')],
      ['saveSnapshot', (s) => s.stream(ref).saveSnapshot(1, { n: 1 })],
      ['latestSnapshot', (s) => s.stream(ref).latestSnapshot()],
      ['snapshotAt', (s) => s.stream(ref).snapshotAt(1)],
      ['snapshotVersions', (s) => s.stream(ref).snapshotVersions()],
      ['resume', (s) => s.resume(ref, 's')],
      ['query', (s) => s.query('user', 'u', { database: 'db' })],
      ['readLog', (s) => s.readLog({ database: 'db' })],
    ];
    const value = { events: [], version: 0, snapshot: undefined, ...session };
    for (const [name, call] of repeatable) {
      const { store, calls } = scripted([retryable(), 'ok'], value);
      await call(store);
      expect(calls.map((c) => c.method)).toEqual([name, name]);
    }
    for (const name of ['open', 'deleteSnapshot', 'clearSnapshots']) {
      for (const outcome of [retryable(), { code: 'STORAGE_FAILURE' }] as const) {
        const { store, calls } = scripted([outcome, 'ok'], session);
        const run =
          name === 'open'
            ? store.open(ref)
            : name === 'deleteSnapshot'
              ? store.stream(ref).deleteSnapshot(1)
              : store.stream(ref).clearSnapshots();
        expect(isStorageError(await failure(run)), name).toBe(true);
        expect(calls, name).toHaveLength(1);
      }
    }
    // A session's renew and close may run twice too.
    const { store, calls } = scripted(['ok', retryable(), 'ok', retryable(), 'ok'], session);
    const opened = await store.open(ref);
    await opened.renew();
    await opened.close();
    expect(calls.map((c) => c.method)).toEqual(['open', 'renew', 'renew', 'close', 'close']);
  });

  it('bounds the attempts by the namespace policy; false never retries', async () => {
    const bounded = scripted([retryable()], 1, { maxAttempts: 3 });
    expect(isStorageError(await failure(bounded.store.stream(ref).version()))).toBe(true);
    expect(bounded.calls).toHaveLength(3);
    const never = scripted([retryable()], 1, false);
    expect(isStorageError(await failure(never.store.stream(ref).version()))).toBe(true);
    expect(never.calls).toHaveLength(1);
    const defaults = scripted([retryable(), retryable(), 'ok'], 1);
    expect(await defaults.store.stream(ref).version()).toBe(1);
  });
});

describe('createDurableObjectEventStore checks input before calling', () => {
  it('payloads, snapshot states, metadata and names, as a local store does: nothing is called', async () => {
    class Money {
      constructor(readonly cents: bigint) {}
    }
    const { store, calls } = scripted(['ok'], appended);
    const stream = store.stream(ref);
    const refused = async (run: Promise<unknown> | (() => unknown)) => {
      const error = await failure(typeof run === 'function' ? Promise.resolve().then(run) : run);
      expect(isInvalidArgumentError(error), String(error)).toBe(true);
      return (error as { field: string }).field;
    };
    expect(await refused(stream.append({ type: 'A', data: { f: () => 1 } }))).toBe(
      'events[0].data.f',
    );
    expect(await refused(stream.append({ type: 'A', data: { s: Symbol('s') } }))).toBe(
      'events[0].data.s',
    );
    expect(await refused(stream.append({ type: 'A', data: { m: new Money(1n) } }))).toBe(
      'events[0].data.m',
    );
    expect(await refused(stream.append({ type: 'bad\uD800' }))).toBe('events[0].type');
    expect(await refused(stream.saveSnapshot(1, { f: () => 1 }))).toBe('state.f');
    expect(await refused(stream.versionOf('x\uDC00'))).toBe('messageId');
    expect(await refused(() => store.stream({ ...ref, type: 'lone\uD800' }))).toBe('ref.type');
    expect(await refused(() => store.stream({ ...ref, id: 'c1\u0085' }))).toBe('ref.id');
    expect(calls).toEqual([]);
  });
});

describe('the object refuses names it cannot route before encoding them', () => {
  it('a lone surrogate in a ref reaching the object is INVALID_ARGUMENT, not a storage failure', async () => {
    const rpc = eventStoreObjectRpc(env.STORE.get(env.STORE.idFromName(databaseObjectName('db'))));
    const result = (await rpc.version({ ref: { ...ref, type: 'lone\uD800' } })) as {
      ok: boolean;
      error?: { code: string; field: string };
    };
    expect(result.ok).toBe(false);
    expect(result.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'ref.type' });
    const log = (await rpc.readLog({ options: { database: 'x\uD800' } })) as typeof result;
    expect(log.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'options.database' });
  });
});
