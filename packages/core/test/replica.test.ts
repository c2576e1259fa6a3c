import { describe, expect, it } from 'vitest';
import {
  createEventStore,
  createMemoryKv,
  isInvalidArgumentError,
  isKvConditionError,
  isVersionMismatchError,
  type RecordedEvent,
} from '../src/index.js';
import { createReplica } from '../src/replica.js';
import { createManualClock, createNonAtomicKv } from '../src/testing/index.js';

const ref = { type: 'Account', id: '7' };

/** Events as an edge recorded them: its own clock, ids, metadata. */
const recordedElsewhere = async (count: number): Promise<RecordedEvent[]> => {
  const clock = createManualClock(1_000);
  const edge = createEventStore({ kv: createMemoryKv(), clock });
  const stream = edge.stream(ref);
  for (let i = 1; i <= count; i++) {
    clock.advance(10);
    await stream.append({
      type: 'Deposited',
      data: { amount: i, at: new Date(i) },
      metadata: { messageId: `m-${i}`, userId: 'ann', correlationId: `c-${i}`, schemaVersion: 2 },
    });
  }
  return stream.read();
};

const withoutPosition = (events: readonly RecordedEvent[]) =>
  events.map(({ position: _, ...rest }) => rest);

describe('replica', () => {
  it('writes events recorded elsewhere verbatim: versions, data and metadata, timestamps included', async () => {
    const theirs = await recordedElsewhere(3);
    const replica = createReplica({ kv: createMemoryKv(), clock: createManualClock(99_999) });
    await expect(replica.replicate(ref, theirs)).resolves.toEqual({ version: 3 });
    const mine = await replica.store.stream(ref).read();
    expect(withoutPosition(mine)).toEqual(withoutPosition(theirs));
    expect(mine.map((e) => e.metadata.timestamp)).toEqual([1010, 1020, 1030]);
    // Indexes use the recorded time.
    const page = await replica.store.query('user', 'ann', { since: 1015, until: 1025 });
    expect(page.events.map((e) => e.version)).toEqual([2]);
  });

  it('is idempotent: events already here are skipped, the rest appended', async () => {
    const theirs = await recordedElsewhere(5);
    const replica = createReplica({ kv: createMemoryKv() });
    await replica.replicate(ref, theirs.slice(0, 2));
    await replica.replicate(ref, theirs.slice(0, 2));
    await expect(replica.replicate(ref, theirs.slice(1))).resolves.toEqual({ version: 5 });
    expect((await replica.store.stream(ref).read()).map((e) => e.metadata.messageId)).toEqual([
      'm-1',
      'm-2',
      'm-3',
      'm-4',
      'm-5',
    ]);
  });

  it('refuses events that diverge from what is here, or leave a gap', async () => {
    const theirs = await recordedElsewhere(3);
    const replica = createReplica({ kv: createMemoryKv() });
    await replica.store.stream(ref).append({ type: 'Local', metadata: { messageId: 'other' } });
    const diverged = await replica.replicate(ref, theirs).catch((e) => e);
    expect(isVersionMismatchError(diverged)).toBe(true);
    const gap = await replica.replicate(ref, theirs.slice(2)).catch((e) => e);
    expect(gap).toMatchObject({ code: 'VERSION_MISMATCH', expected: 2, actual: 1 });
    expect(await replica.store.stream(ref).version()).toBe(1);
  });

  it('refuses events that continue the stream when one of their message ids names another version here', async () => {
    const theirs = await recordedElsewhere(2);
    const replica = createReplica({ kv: createMemoryKv() });
    await replica.store.stream(ref).append({ type: 'Local', metadata: { messageId: 'm-2' } });
    const diverged = await replica.replicate(ref, theirs.slice(1)).catch((e) => e);
    expect(diverged).toMatchObject({ code: 'VERSION_MISMATCH', expected: 1, actual: 1 });
    expect(await replica.store.stream(ref).version()).toBe(1);
  });

  it("commits the owner's records with the events, or neither", async () => {
    const theirs = await recordedElsewhere(2);
    const replica = createReplica({ kv: createMemoryKv() });
    await replica.commit({ puts: [{ key: '#owner/cursor', value: 1 }] });
    const stale = { key: '#owner/cursor', equals: 0 };
    const failed = await replica
      .replicate(ref, theirs, { checks: [stale], puts: [{ key: '#owner/cursor', value: 2 }] })
      .catch((e) => e);
    expect(isKvConditionError(failed)).toBe(true);
    expect(await replica.store.stream(ref).version()).toBe(0);

    await replica.replicate(ref, theirs, {
      checks: [{ key: '#owner/cursor', equals: 1 }],
      puts: [{ key: '#owner/cursor', value: 2 }],
    });
    expect(await replica.get(['#owner/cursor'])).toEqual([2]);
    expect(await replica.store.stream(ref).version()).toBe(2);
    // Replicating what is already here still commits the owner's records.
    await replica.replicate(ref, theirs, { puts: [{ key: '#owner/cursor', value: 3 }] });
    expect(await replica.get(['#owner/cursor'])).toEqual([3]);
  });

  it("the head check fences the owner's commits against a moved stream", async () => {
    const replica = createReplica({ kv: createMemoryKv() });
    const { version, check } = await replica.head(ref);
    expect(version).toBe(0);
    await replica.store.stream(ref).append({ type: 'Moved' });
    const failed = await replica
      .commit({ checks: [check], puts: [{ key: '#owner/pending', value: 1 }] })
      .catch((e) => e);
    expect(isKvConditionError(failed)).toBe(true);
    const now = await replica.head(ref);
    await replica.commit({ checks: [now.check], puts: [{ key: '#owner/pending', value: 1 }] });
    expect(await replica.scan({ prefix: '#owner/' })).toEqual([
      { key: '#owner/pending', value: 1 },
    ]);
  });

  it("refuses to write the store's own keys, non-atomic backends and bad events", async () => {
    const replica = createReplica({ kv: createMemoryKv() });
    expect(
      isInvalidArgumentError(
        await replica.commit({ puts: [{ key: 'default/h/x', value: 1 }] }).catch((e) => e),
      ),
    ).toBe(true);
    expect(() => createReplica({ kv: createNonAtomicKv(createMemoryKv()) })).toThrow(/atomic/);
    const theirs = await recordedElsewhere(2);
    await expect(replica.replicate(ref, [])).rejects.toMatchObject({ field: 'events' });
    await expect(replica.replicate(ref, [theirs[1]!, theirs[0]!])).rejects.toMatchObject({
      field: 'events[1].version',
    });
    await expect(replica.replicate({ type: 'Account', id: 'other' }, theirs)).rejects.toMatchObject(
      { field: 'events[0].metadata' },
    );
  });
});

describe('replica streams', () => {
  it('lists the streams of a database that hold events, names decoded', async () => {
    const replica = createReplica({ kv: createMemoryKv() });
    await replica.store.stream({ type: 'A/b', id: 'é 1' }).append({ type: 'T' });
    await replica.store.stream({ database: 'other', type: 'A', id: '2' }).append({ type: 'T' });
    expect(await replica.streams()).toEqual([{ database: 'default', type: 'A/b', id: 'é 1' }]);
    expect(await replica.streams('other')).toEqual([{ database: 'other', type: 'A', id: '2' }]);
  });
});
