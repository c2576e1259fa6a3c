import { checkName, InvalidArgumentError } from '@eventkv/core';
import {
  DEFAULT_WAIT_MS,
  MAX_PULL_LIMIT,
  MAX_PUSH_ENTRIES,
  MAX_WAIT_MS,
  type PullRequest,
  type PushRequest,
  type StreamKey,
  SYNC_PROTOCOL,
  type SyncCursor,
  type WaitRequest,
} from '../protocol.js';

/** Checks of the messages an edge receives: anything malformed is INVALID_ARGUMENT naming it. */

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const object = (field: string, v: unknown): Record<string, unknown> => {
  if (!isRecord(v)) throw new InvalidArgumentError(field, 'must be an object');
  return v;
};

const integer = (field: string, v: unknown, min: number): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new InvalidArgumentError(field, `must be an integer of at least ${min}`);
  }
  return v;
};

const protocol = (message: Record<string, unknown>): void => {
  if (message.protocol !== SYNC_PROTOCOL) {
    throw new InvalidArgumentError(
      'protocol',
      `must be ${SYNC_PROTOCOL} (this edge speaks sync protocol ${SYNC_PROTOCOL})`,
    );
  }
};

const streamKey = (field: string, v: unknown): StreamKey => {
  const s = object(field, v);
  return { type: checkName(`${field}.type`, s.type), id: checkName(`${field}.id`, s.id) };
};

export const validatePush = (message: unknown): PushRequest => {
  const m = object('request', message);
  protocol(m);
  const entries = m.entries;
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_PUSH_ENTRIES) {
    throw new InvalidArgumentError(
      'entries',
      `must be an array of 1 to ${MAX_PUSH_ENTRIES} entries`,
    );
  }
  const seen = new Set<string>();
  entries.forEach((raw, i) => {
    const entry = object(`entries[${i}]`, raw);
    const stream = streamKey(`entries[${i}].stream`, entry.stream);
    const key = JSON.stringify([stream.type, stream.id]);
    if (seen.has(key)) {
      throw new InvalidArgumentError(`entries[${i}].stream`, 'appears twice in this push');
    }
    seen.add(key);
    integer(`entries[${i}].expectedVersion`, entry.expectedVersion, 0);
    if (!Array.isArray(entry.events) || entry.events.length === 0) {
      throw new InvalidArgumentError(`entries[${i}].events`, 'must be a non-empty array');
    }
    entry.events.forEach((event: unknown, j: number) => {
      const id = (event as { metadata?: { messageId?: unknown } } | null)?.metadata?.messageId;
      checkName(`entries[${i}].events[${j}].metadata.messageId`, id);
    });
  });
  return {
    protocol: SYNC_PROTOCOL,
    clientId: checkName('clientId', m.clientId),
    epoch: integer('epoch', m.epoch, 1),
    seq: integer('seq', m.seq, 1),
    entries: entries as PushRequest['entries'],
  };
};

const cursorOf = (m: Record<string, unknown>): SyncCursor | undefined => {
  if (m.cursor === undefined) return undefined;
  const c = object('cursor', m.cursor);
  if (typeof c.serverId !== 'string' || c.serverId.length === 0) {
    throw new InvalidArgumentError('cursor.serverId', 'must be a non-empty string');
  }
  return { serverId: c.serverId, position: integer('cursor.position', c.position, 0) };
};

export const validatePull = (
  message: unknown,
): Required<Omit<PullRequest, 'cursor' | 'streams'>> & Pick<PullRequest, 'cursor' | 'streams'> => {
  const m = object('request', message);
  protocol(m);
  const cursor = cursorOf(m);
  const limit = m.limit === undefined ? 500 : integer('limit', m.limit, 1);
  if (limit > MAX_PULL_LIMIT) {
    throw new InvalidArgumentError('limit', `must be at most ${MAX_PULL_LIMIT}`);
  }
  let streams: StreamKey[] | undefined;
  if (m.streams !== undefined) {
    if (!Array.isArray(m.streams) || m.streams.length > 1000) {
      throw new InvalidArgumentError('streams', 'must be an array of at most 1000 streams');
    }
    streams = m.streams.map((s, i) => streamKey(`streams[${i}]`, s));
  }
  return {
    protocol: SYNC_PROTOCOL,
    limit,
    ...(cursor === undefined ? {} : { cursor }),
    ...(streams === undefined ? {} : { streams }),
  };
};

export const validateWait = (
  message: unknown,
): Required<Omit<WaitRequest, 'cursor'>> & Pick<WaitRequest, 'cursor'> => {
  const m = object('request', message);
  protocol(m);
  const cursor = cursorOf(m);
  const timeoutMs =
    m.timeoutMs === undefined ? DEFAULT_WAIT_MS : integer('timeoutMs', m.timeoutMs, 0);
  if (timeoutMs > MAX_WAIT_MS) {
    throw new InvalidArgumentError('timeoutMs', `must be at most ${MAX_WAIT_MS}`);
  }
  return { protocol: SYNC_PROTOCOL, timeoutMs, ...(cursor === undefined ? {} : { cursor }) };
};
