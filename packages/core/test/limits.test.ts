import { describe, expect, it } from 'vitest';
import { createEventStore, createMemoryKv } from '../src/index.js';

describe('backend commit limits', () => {
  it('an append too large for one commit is refused before anything is written', async () => {
    const kv = createMemoryKv({ maxCommitKeys: 40 });
    const stream = createEventStore({ kv }).stream({ type: 'A', id: '1' });
    await stream.append([{ type: 'T' }, { type: 'T' }]);
    const many = Array.from({ length: 10 }, () => ({ type: 'T' }));
    await expect(stream.append(many)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'events',
      message: expect.stringMatching(/more than the backend's 40/),
    });
    expect(await stream.version()).toBe(2);
  });

  it('clearSnapshots splits its deletes to fit the limit', async () => {
    const kv = createMemoryKv({ maxCommitKeys: 8 });
    const store = createEventStore({ kv, globalLog: false, indexes: false });
    const stream = store.stream({ type: 'A', id: '1' });
    await stream.append({ type: 'T' });
    for (let v = 0; v < 10; v++) {
      await stream.append({ type: 'T' });
      await stream.saveSnapshot(v + 1, { v });
    }
    expect(await stream.clearSnapshots()).toBe(10);
    expect(await stream.snapshotVersions()).toEqual([]);
  });
});
