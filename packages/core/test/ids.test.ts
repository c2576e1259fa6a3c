import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEventStore, createMemoryKv, defaultIdGenerator } from '../src/index.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('defaultIdGenerator', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('makes random version 4 UUIDs, all distinct, across many refills of its random bytes', () => {
    const ids = Array.from({ length: 5_000 }, () => defaultIdGenerator());
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives every event appended without a message id its own', async () => {
    const stream = createEventStore({ kv: createMemoryKv() }).stream({ type: 'A', id: '1' });
    await stream.append([{ type: 'X' }, { type: 'Y' }]);
    const [first, second] = await stream.read();
    expect(first?.metadata.messageId).toMatch(UUID_V4);
    expect(second?.metadata.messageId).toMatch(UUID_V4);
    expect(first?.metadata.messageId).not.toBe(second?.metadata.messageId);
    expect(await stream.versionOf(second?.metadata.messageId as string)).toBe(2);
  });

  it('falls back to time and Math.random where the platform has no crypto', () => {
    vi.stubGlobal('crypto', undefined);
    const ids = Array.from({ length: 100 }, () => defaultIdGenerator());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]+-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
