import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import {
  isInvalidSessionError,
  isOpenFailedError,
  isStreamLockedError,
  type OpenFailedError,
  type StreamRef,
} from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import { createDurableObjectEventStore, streamObjectName } from '../src/index.js';
import { type BankEvent, deposit, failure, uniqueRef } from './helpers.js';
import type { TestStoreObject } from './worker.js';

const store = createDurableObjectEventStore<BankEvent>(env.STORE);

// Marks the running instance, so a test can tell that a later call met a new one.
const MARK = Symbol('instance mark');
const markInstance = (stub: DurableObjectStub<TestStoreObject>) =>
  runInDurableObject(stub, (instance) => {
    (instance as unknown as Record<symbol, boolean>)[MARK] = true;
  });
const sameInstance = (stub: DurableObjectStub<TestStoreObject>) =>
  runInDurableObject(
    stub,
    (instance) => (instance as unknown as Record<symbol, boolean>)[MARK] === true,
  );

// A stub that saw its object abort stays broken, so each step takes a fresh one.
const stubOf = (ref: StreamRef) => env.STORE.get(env.STORE.idFromName(streamObjectName(ref)));

const restart = async (ref: StreamRef, how: 'evict' | 'abort') => {
  await markInstance(stubOf(ref));
  if (how === 'evict') {
    await evictDurableObject(stubOf(ref));
  } else {
    // abort() resets the object at once; the call that asked for it fails.
    await failure(
      runInDurableObject(stubOf(ref), (_instance, state) => state.abort('test restart')),
    );
  }
  expect(await sameInstance(stubOf(ref))).toBe(false);
};

describe.each(['evict', 'abort'] as const)('an object restarted (%s) between calls', (how) => {
  it('loses no event, snapshot or idempotency entry', async () => {
    const ref = uniqueRef();
    const stream = store.stream(ref);
    await stream.append([deposit(1, 'm1'), deposit(2, 'm2')]);
    await stream.saveSnapshot(2, { balance: 3 });
    await restart(ref, how);
    await stream.append(deposit(3, 'm3'), { expectedVersion: 2 });
    await restart(ref, how);
    expect((await stream.read()).map((e) => e.version)).toEqual([1, 2, 3]);
    expect(await stream.versionOf('m2')).toBe(2);
    expect(await stream.latestSnapshot()).toMatchObject({ version: 2, state: { balance: 3 } });
    // A retry of an acknowledged append is still recognised after the restart.
    expect(await stream.append(deposit(3, 'm3'))).toMatchObject({ version: 3, deduplicated: true });
  });

  it('keeps a session lease: the session still writes, everyone else is still refused', async () => {
    const ref = uniqueRef();
    const session = await store.open(ref);
    await session.append(deposit(1));
    await restart(ref, how);

    await session.append(deposit(2));
    const other = await failure(store.open(ref));
    expect(isOpenFailedError(other)).toBe(true);
    expect((other as OpenFailedError).holder).toBe(session.sessionId);
    expect(isStreamLockedError(await failure(store.stream(ref).append(deposit(9))))).toBe(true);
    expect(isInvalidSessionError(await failure(store.resume(ref, 'someone-else')))).toBe(true);

    const resumed = await createDurableObjectEventStore<BankEvent>(env.STORE).resume(
      ref,
      session.sessionId,
    );
    await resumed.renew();
    expect(resumed.expiresAt).toBeGreaterThanOrEqual(session.expiresAt);
    await session.close();
    expect(await store.stream(ref).version()).toBe(2);
  });
});
