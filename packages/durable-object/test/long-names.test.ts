import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { isInvalidArgumentError, type StreamId } from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import { createDurableObjectEventStore, streamObjectName } from '../src/index.js';
import { deposit } from './helpers.js';

// Names are up to 256 characters of any script, and an object name percent-encodes three
// of them: up to about 7 KB. The runtime tells an object its name only up to 1024 bytes,
// and a stream object under 'stream' routing learns its stream from its name to deliver it
// to the database's feed. A longer name would be a stream the feed never hears of (its
// appends acknowledged, every database-wide read waiting for them in vain), so the store
// refuses it; under 'database' routing nothing needs the name, and long names work.

/** A ref whose stream object name is exactly `bytes` long ('字' is 9 bytes encoded). */
const refOfNameBytes = (database: string, bytes: number): StreamId => {
  const base = streamObjectName({ database, type: 'T', id: 'x' }).length - 1;
  const left = bytes - base;
  return { database, type: 'T', id: '字'.repeat(Math.floor(left / 9)) + 'x'.repeat(left % 9) };
};

describe('stream names whose object name is long', () => {
  it('the runtime tells an object a name of 1024 bytes, and none of 1025', async () => {
    const nameOf = (name: string) =>
      runInDurableObject(
        env.STORE.get(env.STORE.idFromName(name)),
        (_object, state) => state.id.name,
      );
    const at = 'n'.repeat(1024);
    expect(await nameOf(at)).toBe(at);
    expect(await nameOf(`${at}n`)).toBeUndefined();
  });

  it("under 'stream' routing, a stream at the limit reaches the feed, and one past it is refused before anything is written", async () => {
    const database = `long-${crypto.randomUUID()}`;
    const store = createDurableObjectEventStore(env.STORE, { routing: 'stream', database });
    const fits = refOfNameBytes(database, 1024);
    expect(streamObjectName(fits)).toHaveLength(1024);
    await store.stream(fits).append([deposit(1), deposit(2)]);
    expect((await store.readLog()).events.map((e) => e.metadata.aggregateId)).toEqual([
      fits.id,
      fits.id,
    ]);

    const past = refOfNameBytes(database, 1025);
    let refused: unknown;
    try {
      await store.stream(past).append(deposit(3));
    } catch (error) {
      refused = error;
    }
    expect(isInvalidArgumentError(refused)).toBe(true);
    expect(refused).toMatchObject({ field: 'ref' });
    await expect(store.open(past)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // The longest database name there is, in a script percent-encoded as 9 bytes a character.
    const longest = `${database}-${'字'.repeat(256 - database.length - 1)}`;
    expect(() =>
      createDurableObjectEventStore(env.STORE, { routing: 'stream', database: longest }).stream({
        type: 'T',
        id: '1',
      }),
    ).toThrow(/longer than 1024 bytes/);
  });

  it("under 'database' routing the longest names work, database-wide reads included", async () => {
    const database = `long-${crypto.randomUUID()}-${'字'.repeat(200)}`;
    const store = createDurableObjectEventStore(env.STORE, { routing: 'database', database });
    const ref = { type: '字'.repeat(256), id: '字'.repeat(256) };
    await store.stream(ref).append([deposit(1), deposit(2)]);
    expect(await store.stream(ref).version()).toBe(2);
    expect((await store.readLog()).events).toHaveLength(2);
    expect((await store.query('aggregateType', ref.type)).events).toHaveLength(2);
  });
});
