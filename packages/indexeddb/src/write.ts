import {
  failedChecks,
  type KvCommit,
  KvConditionError,
  type KvPut,
  type KvValue,
} from '@eventkv/core/kv';
import { unwrapValue } from './read.js';
import type { StoredRecord } from './schema.js';
import { abort, Own } from './transact.js';

const NO_KEYS: readonly string[] = [];

/**
 * One `readwrite` transaction: read `keys`, let `plan` decide the change from their values
 * (synchronously, in the request's callback), verify its checks (a checked key already
 * read is not read again), then queue every put and delete and resolve when the
 * transaction completes, with the keys changed. Nothing is awaited inside it: requests
 * are queued on the raw transaction and answered by callbacks, with one promise per write.
 *
 * A put whose index keys another record holds fails IndexedDB's unique index with
 * `ConstraintError`; that aborts the transaction and becomes `KvConditionError` naming the
 * index keys of that put (IndexedDB does not say which of them clashed). Any failure
 * aborts the transaction, and an aborted transaction leaves no trace.
 */
export const write =
  (keys: readonly string[], plan: (values: (KvValue | undefined)[]) => KvCommit | undefined) =>
  (tx: IDBTransaction, store: IDBObjectStore): Promise<readonly string[]> =>
    new Promise((resolve, reject) => {
      let failure: unknown;
      let changed = NO_KEYS;
      /** Puts with index keys and their requests, to name the one that clashed. */
      const indexed: KvPut[] = [];
      const requests: IDBRequest[] = [];
      const fail = (error: unknown) => {
        if (failure !== undefined) return;
        failure = error;
        abort(tx);
        reject(error);
      };
      const step = (run: () => void) => () => {
        try {
          run();
        } catch (error) {
          fail(error);
        }
      };
      tx.oncomplete = () => resolve(changed);
      tx.onabort = () =>
        fail(tx.error ?? new DOMException('The commit was aborted.', 'AbortError'));
      tx.onerror = (event) => {
        const request = event.target as IDBRequest;
        const i = request.error?.name === 'ConstraintError' ? requests.indexOf(request) : -1;
        if (i >= 0) fail(new KvConditionError([...((indexed[i] as KvPut).indexKeys ?? [])]));
      };
      const apply = (change: KvCommit) => {
        const { puts, deletes } = change;
        if (puts !== undefined) {
          for (const put of puts) {
            const { key, value, indexKeys } = put;
            if (indexKeys !== undefined && indexKeys.length > 0) {
              const request = store.put({ v: value, x: indexKeys } satisfies StoredRecord, key);
              indexed.push(put);
              requests.push(request);
            } else {
              store.put({ v: value } satisfies StoredRecord, key);
            }
          }
        }
        if (deletes !== undefined) for (const key of deletes) store.delete(key);
        changed =
          deletes === undefined || deletes.length === 0
            ? puts === undefined
              ? NO_KEYS
              : puts.map((put) => put.key)
            : [...(puts ?? []).map((put) => put.key), ...deletes];
      };
      const check = (change: KvCommit, values: (KvValue | undefined)[]) => {
        const checks = change.checks ?? [];
        const missing: string[] = [];
        for (const { key } of checks) if (!keys.includes(key)) missing.push(key);
        const verify = (extra: (KvValue | undefined)[]) => {
          const current = checks.map(({ key }) => {
            const i = keys.indexOf(key);
            return i >= 0 ? values[i] : extra[missing.indexOf(key)];
          });
          const failed = failedChecks(checks, current);
          if (failed.length > 0) return fail(new KvConditionError(failed));
          apply(change);
        };
        if (missing.length === 0) return verify([]);
        const gets = missing.map((key) => store.get(key));
        (gets[gets.length - 1] as IDBRequest).onsuccess = step(() =>
          verify(gets.map((get) => unwrapValue(get.result))),
        );
      };
      const planned = (values: (KvValue | undefined)[]) => {
        let change: KvCommit | undefined;
        try {
          change = plan(values);
        } catch (error) {
          return fail(new Own(error));
        }
        if (change !== undefined) check(change, values);
      };
      step(() => {
        if (keys.length === 0) return planned([]);
        const reads = keys.map((key) => store.get(key));
        (reads[reads.length - 1] as IDBRequest).onsuccess = step(() => {
          const values = new Array<KvValue | undefined>(reads.length);
          for (let i = 0; i < reads.length; i++) {
            values[i] = unwrapValue((reads[i] as IDBRequest<StoredRecord | undefined>).result);
          }
          planned(values);
        });
      })();
    });
