import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { Kv, KvChangeListener } from '@eventkv/core';
import { createDurableObjectKv, type DurableObjectKvOptions } from '../src/index.js';

/** A fresh object of the bare test class, with nothing stored. */
export const freshHost = (): DurableObjectStub => env.KV_HOST.get(env.KV_HOST.newUniqueId());

/**
 * A KV whose every call runs inside one Durable Object, on that object's storage: what
 * the conformance suite drives, one fresh object per KV. The adapter's change feed is
 * relayed out of the object after each commit (a listener called inside the object
 * could not reach back to the test).
 */
export const createInObjectKv = (
  stub: DurableObjectStub = freshHost(),
  options?: DurableObjectKvOptions,
): Kv => {
  const inObject = <T>(call: (kv: Kv) => Promise<T>): Promise<T> =>
    runInDurableObject(stub, (_instance, state) =>
      call(createDurableObjectKv(state.storage, options)),
    );
  const listeners = new Set<KvChangeListener>();
  const write = async (apply: (kv: Kv) => Promise<void>): Promise<void> => {
    const changed = await inObject(async (kv) => {
      const keys: string[] = [];
      const stop = kv.watch?.((k) => keys.push(...k));
      try {
        await apply(kv);
      } finally {
        stop?.();
      }
      return keys;
    });
    for (const listener of listeners) listener(changed);
  };
  return {
    capabilities: { atomic: true, copiesValues: true, indexes: true },
    read: (keys, then) => inObject((kv) => kv.read(keys, then)),
    write: (keys, plan) => write((kv) => kv.write(keys, plan)),
    watch(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
};
