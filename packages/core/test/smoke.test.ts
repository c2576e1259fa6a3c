import { describe, expect, it } from 'vitest';
import { createEventStore, createMemoryKv } from '../src/index.js';
import { createManualClock } from '../src/testing/index.js';

type Ev = { type: 'A'; data: { n: number; when: Date } } | { type: 'B' };

describe('smoke', () => {
  it('works', async () => {
    const clock = createManualClock();
    const store = createEventStore<Ev>({ kv: createMemoryKv(), clock });
    const s = store.stream({ type: 'Acc', id: '1' });
    expect(await s.version()).toBe(0);
    const r = await s.append([{ type: 'A', data: { n: 1, when: new Date(5) } }, { type: 'B', metadata: { messageId: 'm2', userId: 'u' } }], { expectedVersion: 0 });
    expect(r).toMatchObject({ version: 2, firstVersion: 1, deduplicated: false, position: 2 });
    const again = await s.append({ type: 'B', metadata: { messageId: 'm2', userId: 'u' } }, { expectedVersion: 1 });
    expect(again.deduplicated).toBe(true);
    const evs = await s.read();
    expect(evs.map((e) => e.version)).toEqual([1, 2]);
    const e0 = evs[0]!;
    if (e0.type === 'A') expect(e0.data.when.getTime()).toBe(5);
    expect((await s.read({ direction: 'backward' })).map((e) => e.version)).toEqual([2, 1]);
    await expect(s.append({ type: 'B' }, { expectedVersion: 0 })).rejects.toMatchObject({ code: 'VERSION_MISMATCH', actual: 2 });
    await s.saveSnapshot(2, { total: 1 });
    const l = await s.load();
    expect(l.snapshot?.state).toEqual({ total: 1 });
    expect(l.events).toEqual([]);
    const q = await store.query('user', 'u');
    expect(q.events.map((e) => e.version)).toEqual([2]);
    const log = await store.readLog();
    expect(log.events.length).toBe(2);
    await using sess = await store.open({ type: 'Acc', id: '1' });
    await expect(store.open({ type: 'Acc', id: '1' })).rejects.toMatchObject({ code: 'OPEN_FAILED' });
    await expect(s.append({ type: 'B' })).rejects.toMatchObject({ code: 'STREAM_LOCKED' });
    await sess.append({ type: 'B' });
    clock.advance(61_000);
    await expect(sess.append({ type: 'B' })).rejects.toMatchObject({ code: 'SESSION_EXPIRED' });
    const s2 = await store.open({ type: 'Acc', id: '1' });
    await s2.close();
    await expect(s2.version()).rejects.toMatchObject({ code: 'NOT_OPEN' });
  });
});
