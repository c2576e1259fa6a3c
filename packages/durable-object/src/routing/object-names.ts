import { InvalidArgumentError, type StreamId, type StreamRef } from '@eventkv/core';

/** Where streams live: one object per stream, or one per database (partition). */
export type Routing = 'stream' | 'database';

const name = (field: string, value: unknown): string => {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(field, 'must be a non-empty string');
  }
  return value;
};

/** The stream a ref names, with the default database filled in (core validates the rest). */
export const toStreamId = (ref: StreamRef): StreamId => {
  if (typeof ref !== 'object' || ref === null) {
    throw new InvalidArgumentError('ref', 'must be an object { database?, type, id }');
  }
  return {
    database: ref.database === undefined ? 'default' : name('ref.database', ref.database),
    type: name('ref.type', ref.type),
    id: name('ref.id', ref.id),
  };
};

// encodeURIComponent never emits '/', so joining encoded parts with '/' is injective, and a
// database name (no '/') never equals a stream name (two '/'): both routings can share a namespace.
const encode = encodeURIComponent;

/**
 * The object name of a stream under `'stream'` routing: distinct refs never share one.
 * @example
 * env.EVENT_STORE.getByName(streamObjectName({ type: 'BankAccount', id: '42' }));
 */
export const streamObjectName = (ref: StreamRef): string => {
  const { database, type, id } = toStreamId(ref);
  return `${encode(database)}/${encode(type)}/${encode(id)}`;
};

/**
 * The object name of a database under `'database'` routing.
 * @example
 * env.EVENT_STORE.getByName(databaseObjectName('tenant-7'));
 */
export const databaseObjectName = (database = 'default'): string =>
  encode(name('database', database));

/** The object that holds `ref` under `routing`. */
export const objectNameFor = (ref: StreamRef, routing: Routing): string =>
  routing === 'stream' ? streamObjectName(ref) : databaseObjectName(toStreamId(ref).database);
