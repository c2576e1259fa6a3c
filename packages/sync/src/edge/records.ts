import type { ErrorJSON } from '@eventkv/core';
import type { Replica } from '@eventkv/core/replica';
import type { PushEntry, StreamKey } from '../protocol.js';

/**
 * The edge's own records, beside the database's streams in the same storage (keys under
 * `#sync/`, which the store's own layout never uses):
 *
 *   #sync/{db}/server          { serverId }: this database's identity, made on first use
 *   #sync/{db}/client/{id}     the last push of a client: user, epoch, seq, digest, results
 */

/** A push's result as stored for a replay: events are read again when it is answered. */
export type StoredResult =
  | {
      readonly status: 'accepted' | 'duplicate';
      readonly stream: StreamKey;
      readonly firstVersion: number;
      readonly version: number;
    }
  | {
      readonly status: 'conflict';
      readonly stream: StreamKey;
      readonly expected: number;
      readonly actual: number;
    }
  | {
      readonly status: 'rejected' | 'deferred';
      readonly stream: StreamKey;
      readonly error: ErrorJSON;
    };

export interface ClientRecord {
  readonly user: string;
  readonly epoch: number;
  readonly seq: number;
  readonly digest: string;
  readonly results: readonly StoredResult[];
}

const part = (name: string): string => encodeURIComponent(name);

export const serverKey = (database: string): string => `#sync/${part(database)}/server`;

export const clientKey = (database: string, clientId: string): string =>
  `#sync/${part(database)}/client/${part(clientId)}`;

/** This database's identity at the edge, made (once, whoever races) on first use. */
export const ensureServerId = async (
  replica: Replica,
  database: string,
  generateId: () => string,
): Promise<string> => {
  const key = serverKey(database);
  for (;;) {
    const [stored] = await replica.get([key]);
    const serverId = (stored as { serverId?: unknown } | undefined)?.serverId;
    if (typeof serverId === 'string') return serverId;
    try {
      const made = generateId();
      await replica.commit({
        checks: [{ key, absent: true }],
        puts: [{ key, value: { serverId: made } }],
      });
      return made;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'KV_CONDITION_FAILED') throw error;
    }
  }
};

/**
 * What identifies a push's content, so that a repeated seq with other content is told
 * apart from a retry: the streams, expected versions and message ids, hashed (cyrb53: not
 * a defence against a forger, who could only fence itself, but no accidental match).
 */
export const digestOf = (entries: readonly PushEntry[]): string => {
  const text = JSON.stringify(
    entries.map((e) => [
      e.stream.type,
      e.stream.id,
      e.expectedVersion,
      e.events.map((event) => event.metadata?.messageId),
    ]),
  );
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return `${(h2 >>> 0).toString(16).padStart(8, '0')}${(h1 >>> 0).toString(16).padStart(8, '0')}:${text.length}`;
};
