import type { StreamId } from '@eventkv/core';
import { HOLDS_HEADER } from './wire.js';

/** Streams per database whose last append a store names to its reads (the Worker's bound). */
const MAX_STREAMS = 100;
/** Databases whose appends a store remembers (least recently appended to forgotten first). */
const MAX_DATABASES = 100;

/**
 * Read-your-writes across the Worker's instances: the last version this store appended to
 * each stream, per database, which its database-wide reads name in `Eventkv-Holds` so that
 * the Worker first waits until the database's feed holds them (under its `stream` routing
 * another instance may have taken the append). The most recent streams only (the feed has
 * long had older ones); a read that was answered drops what it named.
 */
export class OwnAppends {
  readonly #byDatabase = new Map<string, Map<string, number>>();

  appended(ref: StreamId, version: number): void {
    const streams = this.#byDatabase.get(ref.database) ?? new Map<string, number>();
    this.#byDatabase.delete(ref.database);
    this.#byDatabase.set(ref.database, streams);
    if (this.#byDatabase.size > MAX_DATABASES) {
      this.#byDatabase.delete(this.#byDatabase.keys().next().value as string);
    }
    const key = `${encodeURIComponent(ref.type)}/${encodeURIComponent(ref.id)}`;
    if ((streams.get(key) ?? 0) > version) return;
    streams.delete(key);
    streams.set(key, version);
    if (streams.size > MAX_STREAMS) streams.delete(streams.keys().next().value as string);
  }

  /**
   * Sends `read` with the header naming this store's appends to `database`, then forgets
   * the ones it named (unless appended to again meanwhile).
   */
  async read<T>(
    database: string,
    read: (headers: Record<string, string> | undefined) => Promise<T>,
  ): Promise<T> {
    const streams = this.#byDatabase.get(database);
    if (streams === undefined || streams.size === 0) return read(undefined);
    const named = [...streams];
    const answer = await read({
      [HOLDS_HEADER]: named.map(([key, version]) => `${key}/${version}`).join(','),
    });
    for (const [key, version] of named) if (streams.get(key) === version) streams.delete(key);
    return answer;
  }
}
