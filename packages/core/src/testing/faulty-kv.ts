import type { Kv } from '../kv/types.js';

/** `get`: a read of keys only; `scan`: a read with a range; `commit`: a write. */
export type KvOperation = 'get' | 'scan' | 'commit';

/** A fault to inject: fail the `nth` matching operation (1 = the next one). */
export interface Fault {
  readonly nth: number;
  /** `'before'`: the operation does not happen. `'after'`: it happens, then the caller gets an error. */
  readonly when: 'before' | 'after';
  /** Which operations count (default all). */
  readonly operations?: readonly KvOperation[];
}

export class InjectedFault extends Error {
  constructor(
    readonly operation: KvOperation,
    readonly when: 'before' | 'after',
  ) {
    super(`injected fault ${when} ${operation}`);
    this.name = 'InjectedFault';
  }
}

export interface FaultyKv extends Kv {
  /** Arms a fault; replaces any armed one. */
  inject(fault: Fault): void;
  /** Disarms the armed fault. */
  heal(): void;
  /** Faults fired so far. */
  readonly fired: number;
}

/**
 * Wraps a KV and fails the n-th operation before or after it applies: a storage error, a
 * lost connection, or a commit whose acknowledgement never arrived.
 *
 * @example
 * const kv = createFaultyKv(createMemoryKv());
 * kv.inject({ nth: 1, when: 'after', operations: ['commit'] }); // applied, but reported failed
 */
export const createFaultyKv = (inner: Kv): FaultyKv => {
  let armed: { remaining: number; fault: Fault } | undefined;
  let fired = 0;
  const trip = (operation: KvOperation): 'before' | 'after' | undefined => {
    if (!armed || (armed.fault.operations && !armed.fault.operations.includes(operation)))
      return undefined;
    armed.remaining -= 1;
    if (armed.remaining > 0) return undefined;
    const { when } = armed.fault;
    armed = undefined;
    fired += 1;
    return when;
  };
  const run = async <T>(operation: KvOperation, call: () => Promise<T>): Promise<T> => {
    const when = trip(operation);
    if (when === 'before') throw new InjectedFault(operation, when);
    const result = await call();
    if (when === 'after') throw new InjectedFault(operation, when);
    return result;
  };
  return {
    get capabilities() {
      return inner.capabilities;
    },
    get fired() {
      return fired;
    },
    inject(fault) {
      armed = { remaining: fault.nth, fault };
    },
    heal() {
      armed = undefined;
    },
    read: (keys, then) => run(then ? 'scan' : 'get', () => inner.read(keys, then)),
    write: (keys, plan) => run('commit', () => inner.write(keys, plan)),
    ...(inner.watch ? { watch: inner.watch.bind(inner) } : {}),
  };
};
