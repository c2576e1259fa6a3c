import { env } from 'cloudflare:workers';
import { type InvalidArgumentError, isInvalidArgumentError } from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import { createDurableObjectEventStore } from '../src/index.js';
import { type BankEvent, deposit, failure } from './helpers.js';

describe('createDurableObjectEventStore: the database option', () => {
  it('is the database of refs, query and readLog that name none', async () => {
    const database = `tenant-${crypto.randomUUID()}`;
    const tenant = createDurableObjectEventStore<BankEvent>(env.STORE, {
      routing: 'database',
      database,
    });
    const named = createDurableObjectEventStore<BankEvent>(env.STORE, { routing: 'database' });
    const ref = { type: 'BankAccount', id: '42' };

    const stream = tenant.stream(ref);
    expect(stream.ref).toEqual({ database, ...ref });
    await stream.append(deposit(1));
    const session = await tenant.open(ref);
    await session.append(deposit(2));
    await session.close();

    // The same stream as the one named explicitly, and not the one of the default database.
    const [first, second] = await named.stream({ database, ...ref }).read();
    expect([first?.metadata.database, second?.metadata.database]).toEqual([database, database]);
    expect(await named.stream(ref).version()).toBe(0);

    const log = await tenant.readLog();
    expect(log.events.map((e) => e.metadata.database)).toEqual([database, database]);
    const page = await tenant.query('aggregateType', 'BankAccount');
    expect(page.events.map((e) => e.version)).toEqual([1, 2]);
    expect((await tenant.query('aggregateType', 'BankAccount', { limit: 1 })).events).toHaveLength(
      1,
    );
    // A database named in the call still wins.
    expect((await tenant.readLog({ database: `${database}-other` })).events).toEqual([]);
    expect(await tenant.stream({ database: `${database}-other`, ...ref }).version()).toBe(0);
  });

  it("is refused unless it is a name; the default stays 'default'", async () => {
    // A C1 control character too (U+0085), as core refuses it in every name.
    for (const database of ['', 'a\u0000b', 'a\u0085b', '\uD800', 'x'.repeat(257), 42]) {
      const error = (await failure(() =>
        createDurableObjectEventStore(env.STORE, { database: database as string }),
      )) as InvalidArgumentError;
      expect(isInvalidArgumentError(error), String(error)).toBe(true);
      expect(error.field).toBe('options.database');
    }
    const store = createDurableObjectEventStore(env.STORE, { database: 'x'.repeat(256) });
    expect(store.stream({ type: 'T', id: '1' }).ref.database).toBe('x'.repeat(256));
    expect(createDurableObjectEventStore(env.STORE).stream({ type: 'T', id: '1' }).ref).toEqual({
      database: 'default',
      type: 'T',
      id: '1',
    });
  });
});
