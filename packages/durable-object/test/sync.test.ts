import { env } from 'cloudflare:workers';
import { type InvalidArgumentError, isInvalidArgumentError } from '@eventkv/core';
import { SYNC_PROTOCOL } from '@eventkv/sync/edge';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  eventStoreObjectRpc,
  streamObjectName,
  syncObject,
  unwrapResult,
} from '../src/index.js';
import { failure } from './helpers.js';

const push = (seq: number, messageId: string) => ({
  protocol: SYNC_PROTOCOL,
  clientId: 'client-1',
  epoch: 1,
  seq,
  entries: [
    {
      stream: { type: 'BankAccount', id: '42' },
      expectedVersion: seq - 1,
      events: [{ type: 'Deposited', data: { amount: seq }, metadata: { messageId } }],
    },
  ],
});

describe('EventStoreObject: the sync edge', () => {
  it("is served by the database's object, over the store its other methods serve", async () => {
    const database = `tenant-${crypto.randomUUID()}`;
    const principal = { database, user: 'ann' };
    const edge = syncObject(env.STORE, database);

    const first = await edge.push(principal, push(1, 'm-1'));
    expect(first).toMatchObject({ outcome: 'applied', replayed: false, seq: 1 });
    // The same seq again: answered from the client's record, nothing appended twice.
    const again = await edge.push(principal, push(1, 'm-1'));
    expect(again).toMatchObject({ outcome: 'applied', replayed: true });
    expect(again.outcome === 'applied' && again.results).toEqual(
      first.outcome === 'applied' && first.results,
    );

    const store = createDurableObjectEventStore(env.STORE, { routing: 'database', database });
    const events = await store.stream({ type: 'BankAccount', id: '42' }).read();
    expect(events.map((e) => [e.version, e.metadata.messageId])).toEqual([[1, 'm-1']]);

    const pulled = await edge.pull(principal, { protocol: SYNC_PROTOCOL });
    expect(pulled).toMatchObject({ more: false, cursor: { position: 1 } });
    expect('events' in pulled && pulled.events.map((e) => e.metadata.messageId)).toEqual(['m-1']);
  });

  it("refuses a principal of another database, and a stream's object", async () => {
    const database = `tenant-${crypto.randomUUID()}`;
    const edge = syncObject(env.STORE, database);
    const other = (await failure(
      edge.pull({ database: `${database}-other`, user: 'ann' }, { protocol: SYNC_PROTOCOL }),
    )) as InvalidArgumentError;
    expect(isInvalidArgumentError(other)).toBe(true);
    expect(other.field).toBe('routing');

    const name = streamObjectName({ database, type: 'BankAccount', id: '42' });
    const rpc = eventStoreObjectRpc(env.STORE.get(env.STORE.idFromName(name)));
    const result = await rpc.syncPull({
      principal: { database, user: 'ann' },
      request: { protocol: SYNC_PROTOCOL },
    });
    const error = (await failure(() => unwrapResult(result))) as InvalidArgumentError;
    expect(error.field).toBe('routing');
    expect(error.message).toContain('ROUTING=database');
  });

  it('checks the principal and the message', async () => {
    const database = `tenant-${crypto.randomUUID()}`;
    const edge = syncObject(env.STORE, database);
    const noUser = (await failure(
      edge.pull({ database, user: '' }, { protocol: SYNC_PROTOCOL }),
    )) as InvalidArgumentError;
    expect(noUser.field).toBe('principal.user');
    const badProtocol = (await failure(
      edge.pull({ database, user: 'ann' }, { protocol: 2 }),
    )) as InvalidArgumentError;
    expect(badProtocol.field).toBe('protocol');
  });
});
