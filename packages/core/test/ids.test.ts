import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEventStore, createMemoryKv, defaultIdGenerator } from '../src/index.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('defaultIdGenerator', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('makes version 7 UUIDs, all distinct and increasing, across many refills of its random bytes', () => {
    const ids = Array.from({ length: 5_000 }, () => defaultIdGenerator());
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('carries the time in its first 48 bits, and keeps increasing within a millisecond and when the clock steps back', () => {
    const at = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
    const now = vi.spyOn(Date, 'now').mockReturnValue(at);
    try {
      const first = defaultIdGenerator();
      expect(Number.parseInt(first.slice(0, 8) + first.slice(9, 13), 16)).toBe(at);
      // 5,000 in one millisecond: more than the 12-bit counter holds, so later ones borrow
      // the next milliseconds.
      const same = Array.from({ length: 5_000 }, () => defaultIdGenerator());
      now.mockReturnValue(at - 60_000);
      const back = Array.from({ length: 10 }, () => defaultIdGenerator());
      const ids = [first, ...same, ...back];
      expect([...ids].sort()).toEqual(ids);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id).toMatch(UUID_V7);
    } finally {
      now.mockRestore();
    }
    // Back on the real clock (earlier than 2030): it carries on from the last millisecond.
    const after = defaultIdGenerator();
    expect(Number.parseInt(after.slice(0, 8) + after.slice(9, 13), 16)).toBeGreaterThan(at);
  });

  it('gives every event appended without a message id its own', async () => {
    const stream = createEventStore({ kv: createMemoryKv() }).stream({ type: 'A', id: '1' });
    await stream.append([{ type: 'X' }, { type: 'Y' }]);
    const [first, second] = await stream.read();
    expect(first?.metadata.messageId).toMatch(UUID_V7);
    expect(second?.metadata.messageId).toMatch(UUID_V7);
    expect(first?.metadata.messageId).not.toBe(second?.metadata.messageId);
    expect(await stream.versionOf(second?.metadata.messageId as string)).toBe(2);
  });

  it('draws its random bits from Math.random where the platform has no crypto', () => {
    vi.stubGlobal('crypto', undefined);
    // More than one refill of its random bytes (256 ids), so some come from Math.random.
    const ids = Array.from({ length: 600 }, () => defaultIdGenerator());
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
