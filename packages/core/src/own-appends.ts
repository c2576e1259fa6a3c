import type { StreamId } from './errors.js';
import { encodeName } from './keys.js';

/** A stream's last append by this store, which a read from a feed must find held. */
export interface OwnAppend {
  readonly ref: StreamId;
  readonly version: number;
}

// Encoded, so that type 'a/b' with id 'c' and type 'a' with id 'b/c' stay apart.
const keyOf = (ref: StreamId): string => `${encodeName(ref.type)}/${encodeName(ref.id)}`;

/**
 * Read-your-writes for a remote store whose database-wide reads come from a feed (the
 * Durable Object store under `'stream'` routing, the HTTP client): the last version it
 * appended to each stream, per database, which such a read first waits for. Bounded in
 * streams per database and in databases, the least recently appended to forgotten first
 * (the feed has long had them); a read that found them held drops them, unless they were
 * appended to again meanwhile.
 * @example
 * const own = new OwnAppends(1000, 1000);
 * own.appended(ref, result.version);
 * const waited = own.of(ref.database); // wait until the feed holds these, read, then:
 * own.held(ref.database, waited);
 */
export class OwnAppends {
  readonly #byDatabase = new Map<string, Map<string, OwnAppend>>();
  readonly #maxStreams: number;
  readonly #maxDatabases: number;

  constructor(maxStreams: number, maxDatabases: number) {
    this.#maxStreams = maxStreams;
    this.#maxDatabases = maxDatabases;
  }

  appended(ref: StreamId, version: number): void {
    const streams = this.#byDatabase.get(ref.database) ?? new Map<string, OwnAppend>();
    this.#byDatabase.delete(ref.database);
    this.#byDatabase.set(ref.database, streams);
    if (this.#byDatabase.size > this.#maxDatabases) {
      this.#byDatabase.delete(this.#byDatabase.keys().next().value as string);
    }
    const key = keyOf(ref);
    if ((streams.get(key)?.version ?? 0) > version) return;
    streams.delete(key);
    streams.set(key, { ref, version });
    if (streams.size > this.#maxStreams) streams.delete(streams.keys().next().value as string);
  }

  /** The appends a read of `database` must find held (none: read at once). */
  of(database: string): OwnAppend[] {
    return [...(this.#byDatabase.get(database)?.values() ?? [])];
  }

  /** A read found `appends` (from `of`) held: they need no waiting any more. */
  held(database: string, appends: readonly OwnAppend[]): void {
    const streams = this.#byDatabase.get(database);
    if (streams === undefined) return;
    for (const { ref, version } of appends) {
      const key = keyOf(ref);
      if (streams.get(key)?.version === version) streams.delete(key);
    }
    if (streams.size === 0) this.#byDatabase.delete(database);
  }
}
