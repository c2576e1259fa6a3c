import { createEventStore, isStorageError, isStorageFullError } from '@eventkv/core';
import { failure } from '@eventkv/core/conformance';
import { kvCommit, kvGet, kvScan } from '@eventkv/core/kv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type TestBackend, useDatabases } from '../support/databases.js';
import { domError } from '../support/raw.js';

type Event = { type: 'Deposited'; data: { amount: number } };

const batch = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => ({
    type: 'Deposited' as const,
    data: { amount: from + i },
    metadata: { messageId: `m-${from + i}`, userId: 'u-1', correlationId: 'c-1' },
  }));

/**
 * Every failure here is injected by patching IndexedDB's own prototypes (or the factory)
 * for one call: the adapter sees exactly what a real failure of that kind looks like.
 */
export const failureTests = (backend: TestBackend, options: { abortStep: number }): void => {
  const database = useDatabases(backend);
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Makes the n-th put from now run, then abort its transaction (or throw `error`). */
  const failPut = (n: number, error?: DOMException) => {
    const put = IDBObjectStore.prototype.put;
    let calls = 0;
    return vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (
      this: IDBObjectStore,
      ...args: Parameters<IDBObjectStore['put']>
    ) {
      calls += 1;
      if (calls === n && error) throw error;
      const request = put.apply(this, args);
      if (calls === n) this.transaction.abort();
      return request;
    });
  };

  /** Makes the next `count` transactions of the adapter fail to start, as on a closing connection. */
  const failTransactions = (count: number) => {
    const transaction = IDBDatabase.prototype.transaction;
    let failed = 0;
    return vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (
      this: IDBDatabase,
      ...args: Parameters<IDBDatabase['transaction']>
    ) {
      // fake-indexeddb opens its own versionchange transactions through this method.
      if (args[1] !== 'versionchange' && failed++ < count) {
        throw domError('InvalidStateError', 'The database connection is closing.');
      }
      return transaction.apply(this, args);
    });
  };

  describe(`failures (${backend.label})`, () => {
    // One aborted attempt per write position: a few hundred transactions.
    it('leaves no trace of a 50-event append aborted after any of its writes (injected abort)', {
      timeout: 60_000,
    }, async () => {
      const db = database();
      const kv = db.connect();
      const store = createEventStore<Event>({ kv });
      const stream = store.stream({ type: 'Account', id: '1' });
      await stream.append(batch(3), { expectedVersion: 'no-stream' });
      const opens = vi.spyOn(db.indexedDB, 'open');
      const before = await kvScan(kv, {});
      const indexedBefore = await kvScan(kv, { by: 'index' });
      let aborted = 0;
      for (let n = 1; ; n += options.abortStep) {
        const spy = failPut(n);
        const outcome = await stream.append(batch(50, 3), { expectedVersion: 3 }).then(
          (result) => result,
          (error: unknown) => error,
        );
        spy.mockRestore();
        if (!isStorageError(outcome)) {
          // n is past the append's last write: this run is the retry, and it succeeds.
          expect(outcome).toMatchObject({ version: 53, firstVersion: 4 });
          break;
        }
        aborted += 1;
        expect(await kvScan(kv, {}), `after an abort at write ${n}`).toEqual(before);
        expect(await kvScan(kv, { by: 'index' }), `index after write ${n}`).toEqual(indexedBefore);
      }
      // One put per event (its message id, log position and four index entries are index
      // keys of that put), then the log head and the head: every one was covered.
      expect(aborted * options.abortStep).toBeGreaterThanOrEqual(50 + 2);
      // A commit that failed after it started is reported, never silently run again.
      expect(opens).toHaveBeenCalledTimes(0);
      expect(await stream.version()).toBe(53);
      expect((await store.query('user', 'u-1')).events).toHaveLength(53);
      expect((await store.readLog()).events).toHaveLength(53);
    });

    it('reports a full quota as StorageFullError, writes nothing and stays readable (injected QuotaExceededError)', async () => {
      const kv = database().connect();
      const stream = createEventStore<Event>({ kv }).stream({ type: 'Account', id: '1' });
      await stream.append(batch(2));
      const before = await kvScan(kv, {});
      failPut(5, domError('QuotaExceededError', 'The quota has been exceeded.'));
      const error = await failure(stream.append(batch(20, 2)));
      expect(isStorageFullError(error) && error.operation).toBe('commit');
      expect((error as Error).cause).toMatchObject({ name: 'QuotaExceededError' });
      vi.restoreAllMocks();
      expect(await kvScan(kv, {})).toEqual(before);
      expect(await stream.read()).toHaveLength(2);
      await expect(stream.append(batch(20, 2))).resolves.toMatchObject({ version: 22 });
    });

    it('reopens a closing connection and retries a commit that never started (injected InvalidStateError)', async () => {
      const db = database();
      const kv = db.connect();
      await kvGet(kv, ['warm-up']);
      const opens = vi.spyOn(db.indexedDB, 'open');
      failTransactions(1);
      await kvCommit(kv, { puts: [{ key: 'a', value: 1 }] });
      expect(opens).toHaveBeenCalledTimes(1);
      expect(await kvGet(kv, ['a'])).toEqual([1]);
    });

    it('gives up after maxRetries with StorageError and nothing written', async () => {
      const kv = database().connect({ maxRetries: 1 });
      const spy = failTransactions(Number.POSITIVE_INFINITY);
      const error = await failure(kvCommit(kv, { puts: [{ key: 'a', value: 1 }] }));
      expect(isStorageError(error) && error.operation).toBe('commit');
      expect((error as Error).cause).toMatchObject({ name: 'InvalidStateError' });
      // The first attempt and one retry.
      expect(spy.mock.calls.filter((call) => call[1] !== 'versionchange')).toHaveLength(2);
      spy.mockRestore();
      expect(await kvGet(kv, ['a'])).toEqual([undefined]);
    });

    it('retries a read that failed on a lost connection (injected InvalidStateError)', async () => {
      const kv = database().connect();
      await kvCommit(kv, { puts: [{ key: 'a', value: 1 }] });
      vi.spyOn(IDBObjectStore.prototype, 'get').mockImplementationOnce(() => {
        throw domError('InvalidStateError');
      });
      expect(await kvGet(kv, ['a'])).toEqual([1]);
    });
  });
};
