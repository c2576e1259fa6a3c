import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../src/conformance/index.js';
import { createEventStore, createMemoryKv, isStorageError, type Kv } from '../src/index.js';
import { kvScan } from '../src/kv/index.js';
import { createFaultyKv, createNonAtomicKv } from '../src/testing/index.js';

// The sequential path (FR-013) for backends without atomic commits: what only it does.
describe('sequential writes with rollback', () => {
  const setup = () => {
    const memory = createMemoryKv();
    const faulty = createFaultyKv(createNonAtomicKv(memory));
    const { logger, entries } = recordingLogger();
    const store = createEventStore({ kv: faulty, logger });
    return { memory, faulty, store, entries, stream: store.stream({ type: 'A', id: '1' }) };
  };
  const keys = async (kv: Kv) => (await kvScan(kv, {})).map((e) => e.key);

  it('writes events before the head, so a half-written append is never readable', async () => {
    const { faulty, memory, stream } = setup();
    await stream.append({ type: 'T' });
    const before = await keys(memory);
    faulty.inject({ nth: 3, when: 'before', operations: ['commit'] });
    await expect(stream.append([{ type: 'T' }, { type: 'T' }])).rejects.toMatchObject({
      code: 'STORAGE_FAILURE',
    });
    expect(await keys(memory)).toEqual(before);
    expect(await stream.read()).toHaveLength(1);
  });

  it('undoes a write whose acknowledgement was lost, so the retry writes cleanly', async () => {
    const { faulty, memory, stream, entries } = setup();
    faulty.inject({ nth: 2, when: 'after', operations: ['commit'] });
    const events = [
      { type: 'T', metadata: { messageId: 'a' } },
      { type: 'T', metadata: { messageId: 'b' } },
    ];
    await expect(stream.append(events)).rejects.toMatchObject({ code: 'STORAGE_FAILURE' });
    expect(await keys(memory)).toEqual([]);
    expect(entries.map((e) => e.fields.event)).toContain('append.rolled-back');
    expect(await stream.append(events)).toMatchObject({ version: 2, deduplicated: false });
  });

  it('reports a rollback that could not finish as a storage failure, and logs it', async () => {
    const memory = createMemoryKv();
    let commits = 0;
    // Fails the 3rd write and every write after it, so the undo fails too.
    const broken: Kv = {
      ...createNonAtomicKv(memory),
      capabilities: { atomic: false, copiesValues: false },
      write: async (keys, plan) => {
        commits += 1;
        if (commits >= 3) throw new Error('disk gone');
        return createNonAtomicKv(memory).write(keys, plan);
      },
    };
    const { logger, entries } = recordingLogger();
    const stream = createEventStore({ kv: broken, logger }).stream({ type: 'A', id: '1' });
    const error = await stream.append([{ type: 'T' }, { type: 'T' }]).catch((e: unknown) => e);
    expect(isStorageError(error)).toBe(true);
    expect(error).toMatchObject({
      operation: 'rollback',
      message: expect.stringMatching(/could not be undone/),
    });
    expect(entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        fields: expect.objectContaining({ event: 'rollback.failed' }),
      }),
    );
  });
});
