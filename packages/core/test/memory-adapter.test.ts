import { describe, expect, it } from 'vitest';
import { createEventStore, createMemoryKv } from '../src/index.js';

// What only the memory adapter does: it shares stored records with readers instead of
// copying them, so core freezes them, and copies those that freezing cannot protect.
describe('memory adapter: shared, frozen records', () => {
  type Ev =
    | { type: 'Plain'; data: { amount: number; tags: string[] } }
    | { type: 'Dated'; data: { at: Date; seen: Map<string, number> } };
  const ref = { type: 'A', id: '1' };

  it('hands out events deeply frozen, the same object on every read (no copy)', async () => {
    const stream = createEventStore<Ev>({ kv: createMemoryKv() }).stream(ref);
    await stream.append({ type: 'Plain', data: { amount: 1, tags: ['x'] } });
    const [first] = await stream.read();
    const [again] = await stream.read();
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first?.metadata)).toBe(true);
    if (first?.type !== 'Plain') throw new Error('expected a Plain event');
    expect(Object.isFrozen(first.data)).toBe(true);
    expect(() => first.data.tags.push('y')).toThrow(TypeError);
  });

  it('copies records holding Dates or Maps on every read, since freezing cannot protect them', async () => {
    const stream = createEventStore<Ev>({ kv: createMemoryKv() }).stream(ref);
    await stream.append({ type: 'Dated', data: { at: new Date(1000), seen: new Map([['a', 1]]) } });
    const [first] = await stream.read();
    const [again] = await stream.read();
    expect(again).not.toBe(first);
    if (first?.type !== 'Dated') throw new Error('expected a Dated event');
    first.data.at.setTime(5);
    first.data.seen.set('b', 2);
    expect(again?.data).toEqual({ at: new Date(1000), seen: new Map([['a', 1]]) });
  });
});
