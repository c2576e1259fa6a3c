import { describe, expect, it } from 'vitest';
import { createEventStore, createMemoryKv } from '../src/index.js';

describe('logging', () => {
  it('is silent by default and accepts console', async () => {
    const store = createEventStore({ kv: createMemoryKv() });
    await store.stream({ type: 'A', id: '1' }).append({ type: 'T' });
    const quiet = { ...console, debug: () => {}, info: () => {} };
    await createEventStore({ kv: createMemoryKv(), logger: quiet })
      .stream({ type: 'A', id: '1' })
      .append({ type: 'T' });
  });

  it('a logger that throws never fails the operation it reports on', async () => {
    const angry = {
      debug: () => {
        throw new Error('log sink down');
      },
    };
    const stream = createEventStore({ kv: createMemoryKv(), logger: angry }).stream({
      type: 'A',
      id: '1',
    });
    await expect(stream.append({ type: 'T' })).resolves.toMatchObject({ version: 1 });
  });

  it('levels the logger lacks are skipped', async () => {
    const seen: string[] = [];
    const onlyWarn = {
      warn: (_m: string, f: Readonly<Record<string, unknown>>) => seen.push(String(f.event)),
    };
    const stream = createEventStore({ kv: createMemoryKv(), logger: onlyWarn }).stream({
      type: 'A',
      id: '1',
    });
    await stream.append({ type: 'T' });
    await stream.append({ type: 'T' }, { expectedVersion: 0 }).catch(() => {});
    expect(seen).toEqual(['version.mismatch']);
  });
});
