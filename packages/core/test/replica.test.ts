import { describe, expect, it } from 'vitest';
import {
  createEventStore,
  createMemoryKv,
  isInvalidArgumentError,
  isKvConditionError,
  isVersionMismatchError,
  type RecordedEvent,
} from '../src/index.js';
import type { Kv } from '../src/kv/types.js';
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

describe('replica replicateMany', () => {
  /** Events another store recorded in the stream `id` (message ids `{id}-{n}`). */
  const recordedIn = async (id: string, count: number): Promise<RecordedEvent[]> => {
    const edge = createEventStore({ kv: createMemoryKv(), clock: createManualClock(5_000) });
    const stream = edge.stream({ type: 'Account', id });
    for (let i = 1; i <= count; i++) {
      await stream.append({
        type: 'Deposited',
        data: { i },
        metadata: { messageId: `${id}-${i}` },
      });
    }
    return stream.read();
  };
  /** A memory KV that counts its writes and records the keys it is asked to read. */
  const counting = () => {
    const kv = createMemoryKv();
    const seen = { writes: 0, reads: [] as string[] };
    const wrapped: Kv = {
      capabilities: kv.capabilities,
      read: (keys, then) => {
        seen.reads.push(...keys);
        return kv.read(keys, then);
      },
      write: (keys, plan) => {
        seen.writes += 1;
        seen.reads.push(...keys);
        return kv.write(keys, plan);
      },
    };
    return { kv: wrapped, seen };
  };
  const a = { type: 'Account', id: 'a' };
  const b = { type: 'Account', id: 'b' };
  const c = { type: 'Account', id: 'c' };

  it('writes the deliveries that continue their streams in one commit, positions in delivery order, no lease read', async () => {
    const [ea, eb, ec] = await Promise.all([
      recordedIn('a', 2),
      recordedIn('b', 1),
      recordedIn('c', 3),
    ]);
    const { kv, seen } = counting();
    const replica = createReplica({ kv });
    const outcomes = await replica.replicateMany([
      { ref: b, events: eb },
      { ref: a, events: ea },
      { ref: c, events: ec },
    ]);
    expect(outcomes).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
    expect(seen.writes).toBe(1);
    expect(seen.reads.filter((key) => key.includes('/l/') || key.endsWith('/lease'))).toEqual([]);
    const log = await replica.store.readLog();
    expect(log.events.map((e) => [e.metadata.aggregateId, e.version, e.position])).toEqual([
      ['b', 1, 1],
      ['a', 1, 2],
      ['a', 2, 3],
      ['c', 1, 4],
      ['c', 2, 5],
      ['c', 3, 6],
    ]);
    expect(withoutPosition(await replica.store.stream(a).read())).toEqual(withoutPosition(ea));
    // The indexes hold them too.
    expect((await replica.store.query('eventType', 'Deposited')).events).toHaveLength(6);
  });

  it('answers each delivery as replicate would: held events skipped, a gap or divergence refused, a stream named twice in order, bad input refused', async () => {
    const [ea, eb, ec] = await Promise.all([
      recordedIn('a', 4),
      recordedIn('b', 2),
      recordedIn('c', 1),
    ]);
    const replica = createReplica({ kv: createMemoryKv() });
    await replica.replicate(a, ea.slice(0, 2));
    await replica.store.stream(c).append({ type: 'Local', metadata: { messageId: 'local' } });
    const outcomes = await replica.replicateMany([
      { ref: a, events: ea.slice(1, 3) }, // overlaps what is held
      { ref: b, events: eb.slice(1) }, // a gap
      { ref: b, events: eb.slice(0, 1) }, // b again: after the first, in order
      { ref: c, events: ec }, // diverged
      { ref: a, events: ea.slice(3) }, // a again, continuing the first
      { ref: { type: 'Account', id: 'd' }, events: [] }, // bad input
    ]);
    expect(outcomes[0]).toEqual({ version: 3 });
    expect((outcomes[1] as { error: unknown }).error).toMatchObject({
      code: 'VERSION_MISMATCH',
      actual: 0,
    });
    expect(outcomes[2]).toEqual({ version: 1 });
    expect(isVersionMismatchError((outcomes[3] as { error: unknown }).error)).toBe(true);
    expect(outcomes[4]).toEqual({ version: 4 });
    expect((outcomes[5] as { error: unknown }).error).toMatchObject({ field: 'events' });
    expect(withoutPosition(await replica.store.stream(a).read())).toEqual(withoutPosition(ea));
    expect(await replica.store.stream(b).version()).toBe(1);
    expect(await replica.store.stream(c).version()).toBe(1);
    const log = await replica.store.readLog();
    expect(log.events.map((e) => e.position)).toEqual(log.events.map((_, i) => i + 1));
    await expect(replica.replicateMany('no' as never)).rejects.toMatchObject({
      field: 'deliveries',
    });
  });

  it('a delivery that continues its stream with a message id held at another version fails the commit: every delivery is then written one by one, that one refused', async () => {
    const [ea, eb] = await Promise.all([recordedIn('a', 2), recordedIn('b', 1)]);
    const replica = createReplica({ kv: createMemoryKv() });
    await replica.store.stream(a).append({ type: 'Local', metadata: { messageId: 'a-2' } });
    const outcomes = await replica.replicateMany([
      { ref: b, events: eb },
      { ref: a, events: ea.slice(1) }, // continues a (version 2), but a-2 is version 1 here
    ]);
    expect(outcomes[0]).toEqual({ version: 1 });
    expect((outcomes[1] as { error: unknown }).error).toMatchObject({
      code: 'VERSION_MISMATCH',
    });
    expect(await replica.store.stream(a).version()).toBe(1);
    expect((await replica.store.readLog()).events.map((e) => e.metadata.messageId)).toEqual([
      'a-2',
      'b-1',
    ]);
  });

  it('writes events while a local session holds the stream, and takes deliveries of another database one by one', async () => {
    const [ea, eb] = await Promise.all([recordedIn('a', 1), recordedIn('b', 1)]);
    const replica = createReplica({ kv: createMemoryKv() });
    const session = await replica.store.open(a);
    const other = { database: 'other', ...b };
    const moved = eb.map((e) => ({ ...e, metadata: { ...e.metadata, database: 'other' } }));
    expect(
      await replica.replicateMany([
        { ref: a, events: ea },
        { ref: other, events: moved },
      ]),
    ).toEqual([{ version: 1 }, { version: 1 }]);
    expect((await replica.store.readLog({ database: 'other' })).events).toHaveLength(1);
    await session.close();
  });
});
