import { env } from 'cloudflare:workers';
import { isInvalidArgumentError, type StreamRef } from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import {
  databaseObjectName,
  eventStoreObjectRpc,
  streamObjectName,
  unwrapResult,
} from '../src/index.js';
import { deposit, uniqueRef } from './helpers.js';

const refusal = async (result: Promise<unknown>): Promise<unknown> => {
  try {
    unwrapResult((await result) as Parameters<typeof unwrapResult>[0]);
  } catch (error) {
    return error;
  }
  return undefined;
};

const rpcOf = (name: string) => eventStoreObjectRpc(env.STORE.get(env.STORE.idFromName(name)));

describe('a named object serves only what lives in it, call after call', () => {
  it("a stream's object refuses another stream before and after serving its own", async () => {
    const own = uniqueRef();
    const other: StreamRef = { ...own, id: `${own.id}-other` };
    const rpc = rpcOf(streamObjectName(own));
    for (const ref of [other, own, other, own, { ...own, type: 'Other' }, other]) {
      const read = rpc.read({ ref });
      if (ref === own) {
        expect(
          unwrapResult(await rpc.append({ ref, events: [deposit(1)] })).version,
        ).toBeGreaterThan(0);
        expect(unwrapResult(await read).events.length).toBeGreaterThanOrEqual(0);
      } else {
        const error = await refusal(read);
        expect(isInvalidArgumentError(error)).toBe(true);
        expect(error).toMatchObject({ field: 'ref' });
        expect(await refusal(rpc.append({ ref, events: [deposit(1)] }))).toMatchObject({
          code: 'INVALID_ARGUMENT',
          field: 'ref',
        });
      }
    }
    expect(unwrapResult(await rpc.version({ ref: own }))).toBe(2);
  });

  it("a database's object serves each of its streams and refuses another database's", async () => {
    const database = `routing-${crypto.randomUUID()}`;
    const rpc = rpcOf(databaseObjectName(database));
    const a = uniqueRef(database);
    const b = uniqueRef(database);
    const elsewhere = uniqueRef(`${database}-elsewhere`);
    for (const ref of [a, elsewhere, b, a, elsewhere]) {
      const result = rpc.version({ ref });
      if (ref === elsewhere) {
        expect(await refusal(result)).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'ref' });
      } else {
        expect(unwrapResult(await result)).toBe(0);
      }
    }
  });
});
