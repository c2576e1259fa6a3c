import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createDurableObjectEventStore } from '../src/index.js';

/** Workers RPC refuses objects without a prototype; the payload contract accepts them. */
const bare = <T extends object>(value: T): T => Object.assign(Object.create(null), value);

describe('objects without a prototype cross RPC', () => {
  it('as payloads, snapshot states and options', async () => {
    const store = createDurableObjectEventStore(env.STORE, {
      routing: 'database',
      database: `bare-${crypto.randomUUID()}`,
    });
    const stream = store.stream(bare({ type: 'T', id: '1' }));
    await stream.append(
      { type: 'E', data: bare({ a: 1, nested: bare({ b: 2 }) }) },
      bare({ expectedVersion: 'no-stream' as const }),
    );
    await stream.saveSnapshot(1, bare({ state: bare({ n: 1 }) }));
    expect((await stream.read(bare({ from: 1 })))[0]?.data).toEqual({ a: 1, nested: { b: 2 } });
    expect((await stream.latestSnapshot())?.state).toEqual({ state: { n: 1 } });
    const page = await store.readLog(bare({ limit: 10 }));
    expect(page.events).toHaveLength(1);
    const session = await store.open(
      bare({ type: 'T', id: '2' }),
      bare({ sessionTimeoutMs: 5000 }),
    );
    await session.close();
  });
});
