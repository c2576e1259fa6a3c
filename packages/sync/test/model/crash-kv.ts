import type { Kv, KvChangeListener, KvCommit, KvRead, KvScan, KvValue } from '@eventkv/core';

/**
 * A replica's storage as its process sees it: the process can die, before a given local
 * commit. From then on nothing of it reaches the storage (every call hangs), and what was
 * committed before stays. A new process opens the same storage by name.
 */
export class CrashableKv implements Kv {
  readonly #kv: Kv;
  #dead = false;
  /** Commits left before the process dies (undefined: it does not). */
  #commitsLeft: number | undefined;
  #died: (() => void) | undefined;

  constructor(kv: Kv) {
    this.#kv = kv;
  }

  get capabilities() {
    return this.#kv.capabilities;
  }

  /** Dies at the start of the (commits+1)th commit from now; resolves when it has. */
  dieBeforeCommit(commits: number): Promise<void> {
    this.#commitsLeft = commits;
    return new Promise((resolve) => {
      this.#died = resolve;
    });
  }

  /** Dies now (between operations). */
  die(): void {
    this.#dead = true;
    this.#died?.();
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** Closes the storage's connection (the process is gone). */
  async close(): Promise<void> {
    await this.#kv.close?.();
  }

  /** Never settles: a dead process does nothing more. */
  #hang<T>(): Promise<T> {
    return new Promise<T>(() => {});
  }

  #beforeCommit(): boolean {
    if (this.#dead) return false;
    if (this.#commitsLeft !== undefined) {
      if (this.#commitsLeft === 0) {
        this.die();
        return false;
      }
      this.#commitsLeft--;
    }
    return true;
  }

  read(
    keys: readonly string[],
    then?: (values: (KvValue | undefined)[]) => KvScan | undefined,
  ): Promise<KvRead> {
    return this.#dead ? this.#hang() : this.#kv.read(keys, then);
  }

  write(
    keys: readonly string[],
    plan: (values: (KvValue | undefined)[]) => KvCommit | undefined,
  ): Promise<void> {
    return this.#beforeCommit() ? this.#kv.write(keys, plan) : this.#hang();
  }

  watch(listener: KvChangeListener): () => void {
    return this.#kv.watch?.(listener) ?? (() => {});
  }
}
