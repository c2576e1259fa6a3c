import { describe, expect, it } from 'vitest';
import { createEventStore, createMemoryKv, isInvalidArgumentError } from '../src/index.js';

// `store.stream(ref)` keeps the keys of recently used streams (src/keys.ts) and starts over
// past a few thousand. Handles made before, across and after that reset must each reach
// their own stream, and a cached stream must still be validated the first time.
describe('stream handles', () => {
  it('address their own stream across more streams than the key cache holds', async () => {
    const store = createEventStore<{ type: 'Seen'; data: { n: number } }>({ kv: createMemoryKv() });
    const count = 5_000;
    const early = store.stream({ type: 'Cached', id: 'early' });
    await early.append({ type: 'Seen', data: { n: -1 } });
    for (let n = 0; n < count; n++) {
      await store.stream({ type: 'Cached', id: `s${n}` }).append({ type: 'Seen', data: { n } });
    }
    for (const n of [0, 2_047, 4_095, 4_096, count - 1]) {
      const events = await store.stream({ type: 'Cached', id: `s${n}` }).read();
      expect(events.map((e) => e.data.n)).toEqual([n]);
      expect(events[0]?.metadata.aggregateId).toBe(`s${n}`);
    }
    await early.append({ type: 'Seen', data: { n: -2 } });
    expect(
      (await store.stream({ type: 'Cached', id: 'early' }).read()).map((e) => e.data.n),
    ).toEqual([-1, -2]);
  });

  it('validates a reference even when a valid one with the same text was cached', () => {
    const store = createEventStore({ kv: createMemoryKv() });
    store.stream({ type: 'A', id: '1' });
    for (const ref of [
      { type: 'A', id: 1 },
      { type: ['A'], id: '1' },
      { type: 'A', id: '1', database: '' },
    ]) {
      try {
        store.stream(ref as never);
        throw new Error(`accepted ${JSON.stringify(ref)}`);
      } catch (error) {
        expect(isInvalidArgumentError(error)).toBe(true);
      }
    }
  });
});
