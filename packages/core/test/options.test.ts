import { describe, expect, it } from 'vitest';
import { createEventStore, createMemoryKv, isInvalidArgumentError } from '../src/index.js';
import { kvScan } from '../src/kv/index.js';

const invalid = (build: () => unknown, field: string) => {
  try {
    build();
  } catch (error) {
    expect(isInvalidArgumentError(error)).toBe(true);
    expect(error).toMatchObject({ field });
    return;
  }
  throw new Error(`expected INVALID_ARGUMENT for ${field}`);
};

describe('createEventStore options', () => {
  it('requires a KV that implements the contract', () => {
    invalid(() => createEventStore(undefined as never), 'options');
    invalid(() => createEventStore({} as never), 'options.kv');
    invalid(() => createEventStore({ kv: { get() {} } } as never), 'options.kv');
  });

  it('validates timeouts and limits', () => {
    const kv = createMemoryKv();
    invalid(() => createEventStore({ kv, sessionTimeoutMs: 0 }), 'options.sessionTimeoutMs');
    invalid(() => createEventStore({ kv, openTimeoutMs: -1 }), 'options.openTimeoutMs');
    invalid(
      () => createEventStore({ kv, openRetryIntervalMs: 1.5 }),
      'options.openRetryIntervalMs',
    );
    invalid(() => createEventStore({ kv, maxEventsPerAppend: 0 }), 'options.maxEventsPerAppend');
  });

  it('refuses unknown indexes and indexes without the global log', () => {
    const kv = createMemoryKv();
    invalid(() => createEventStore({ kv, indexes: ['payload' as never] }), 'options.indexes');
    invalid(() => createEventStore({ kv, globalLog: false }), 'options.indexes');
    expect(() => createEventStore({ kv, globalLog: false, indexes: false })).not.toThrow();
  });

  it('validates stream references and open options', async () => {
    const store = createEventStore({ kv: createMemoryKv() });
    invalid(() => store.stream(null as never), 'ref');
    invalid(() => store.stream({ type: 'A' } as never), 'ref.id');
    invalid(() => store.stream({ type: 'A', id: 'x'.repeat(257) }), 'ref.id');
    invalid(() => store.stream({ database: '', type: 'A', id: '1' }), 'ref.database');
    await expect(store.open({ type: 'A', id: '1' }, { sessionTimeoutMs: 0 })).rejects.toMatchObject(
      {
        field: 'options.sessionTimeoutMs',
      },
    );
    await expect(store.open({ type: 'A', id: '1' }, { openTimeoutMs: -5 })).rejects.toMatchObject({
      field: 'options.openTimeoutMs',
    });
  });

  it('refuses an id generator that returns an unusable id, before writing', async () => {
    const kv = createMemoryKv();
    const stream = createEventStore({ kv, generateId: () => '' }).stream({ type: 'A', id: '1' });
    await expect(stream.append({ type: 'T' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'generateId()',
    });
    expect(await kvScan(kv, {})).toEqual([]);
  });

  it('uses the system clock and random ids by default', async () => {
    const store = createEventStore({ kv: createMemoryKv() });
    const before = Date.now();
    await store.stream({ type: 'A', id: '1' }).append([{ type: 'T' }, { type: 'T' }]);
    const events = await store.stream({ type: 'A', id: '1' }).read();
    expect(events[0]!.metadata.timestamp).toBeGreaterThanOrEqual(before);
    expect(events[0]!.metadata.timestamp).toBeLessThanOrEqual(Date.now());
    expect(events[0]!.metadata.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(events[0]!.metadata.messageId).not.toBe(events[1]!.metadata.messageId);
  });
});
