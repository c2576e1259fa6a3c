import { describe, expect, it } from 'vitest';
import type { LedgerEvent, LoadedAccount } from '../src/ledger';
import {
  describeLoad,
  describeSnapshots,
  describeTimeline,
  mergeTimeline,
} from '../src/ui/account';
import {
  formatTime,
  listOf,
  parseLocalDateTime,
  plural,
  shortId,
  toLocalDateTime,
} from '../src/ui/format';
import { memoryLedger, seedAccount } from './support';

describe('time and id formats', () => {
  it('formats a time as a sortable local date and time', () => {
    expect(formatTime(new Date(2026, 10, 22, 14, 3, 7).getTime())).toBe('2026-11-22 14:03:07');
    expect(formatTime(new Date(2027, 0, 1, 0, 0, 0).getTime())).toBe('2027-01-01 00:00:00');
  });

  it('reads a datetime-local value, and nothing for an empty or broken one', () => {
    expect(parseLocalDateTime('2026-11-22T14:03')).toBe(new Date(2026, 10, 22, 14, 3).getTime());
    expect(parseLocalDateTime('')).toBeUndefined();
    expect(parseLocalDateTime('yesterday')).toBeUndefined();
  });

  it('writes a datetime-local value to the minute that reads back', () => {
    const ms = new Date(2026, 10, 22, 14, 3, 59, 999).getTime();
    expect(toLocalDateTime(ms)).toBe('2026-11-22T14:03');
    expect(parseLocalDateTime(toLocalDateTime(ms))).toBe(new Date(2026, 10, 22, 14, 3).getTime());
  });

  it('shortens ids to their first block', () => {
    expect(shortId('0f8fad5b-d9cb-469f-a165-70867728950e')).toBe('0f8fad5b');
    expect(shortId(undefined)).toBe('—');
    expect(shortId('')).toBe('—');
  });
});

describe('counts and lists in sentences', () => {
  it('puts a count with its noun, singular for one only', () => {
    expect(plural(1, 'event')).toBe('1 event');
    expect(plural(0, 'event')).toBe('0 events');
    expect(plural(2, 'event')).toBe('2 events');
    expect(plural(50, 'event')).toBe('50 events');
    expect(plural(1, 'entry', 'entries')).toBe('1 entry');
    expect(plural(3, 'entry', 'entries')).toBe('3 entries');
  });

  it('lists items with commas and a final “and”', () => {
    expect(listOf([])).toBe('');
    expect(listOf([3])).toBe('3');
    expect(listOf([3, 4])).toBe('3 and 4');
    expect(listOf([2, 3, 4])).toBe('2, 3 and 4');
    expect(listOf(['a', 'b', 'c', 'd'])).toBe('a, b, c and d');
  });
});

describe('mergeTimeline', () => {
  const events = async (count: number): Promise<LedgerEvent[]> => {
    const { ledger } = memoryLedger();
    await seedAccount(ledger, { id: 'x', deposits: Array.from({ length: count - 1 }, () => 1) });
    return ledger.stream('x').read(); // oldest first, as live events arrive
  };
  const versions = (timeline: readonly LedgerEvent[]) => timeline.map((e) => e.version);

  it('puts live events on top, newest first, without duplicates', async () => {
    const all = await events(6);
    const shown = all.slice(0, 3).reverse(); // 3, 2, 1
    expect(versions(mergeTimeline(shown, all.slice(2, 5)))).toEqual([5, 4, 3, 2, 1]);
    expect(versions(mergeTimeline(shown, all.slice(0, 2)))).toEqual([3, 2, 1]);
    expect(versions(mergeTimeline([], all.slice(0, 2)))).toEqual([2, 1]);
    expect(versions(mergeTimeline(shown, []))).toEqual([3, 2, 1]);
  });

  it('keeps the newest 50', async () => {
    const all = await events(60);
    const shown = all.slice(0, 45).reverse();
    const merged = mergeTimeline(shown, all.slice(45));
    expect(merged).toHaveLength(50);
    expect(merged[0]!.version).toBe(60);
    expect(merged.at(-1)!.version).toBe(11);
  });
});

describe('describeLoad', () => {
  const account = (snapshotVersion: number | undefined, replayed: number): LoadedAccount => ({
    id: 'x',
    state: { status: 'open', owner: 'Ada', currency: 'EUR', balance: 0 },
    version: (snapshotVersion ?? 0) + replayed,
    snapshotVersion,
    replayed,
  });

  it('says whether the load started from a snapshot and how many events it replayed', () => {
    expect(describeLoad(account(undefined, 3))).toBe(
      'Last load: no snapshot, 3 events replayed from the start.',
    );
    expect(describeLoad(account(undefined, 1))).toBe(
      'Last load: no snapshot, 1 event replayed from the start.',
    );
    expect(describeLoad(account(10, 2))).toBe(
      'Last load: the snapshot at version 10, then 2 events replayed.',
    );
    expect(describeLoad(account(10, 1))).toBe(
      'Last load: the snapshot at version 10, then 1 event replayed.',
    );
    expect(describeLoad(account(10, 0))).toBe(
      'Last load: the snapshot at version 10, then 0 events replayed.',
    );
  });
});

describe('describeSnapshots', () => {
  it('names the versions, singular or plural, without a trailing full stop', () => {
    expect(describeSnapshots([])).toBe('Snapshots: none yet');
    expect(describeSnapshots([3])).toBe('Snapshots: version 3');
    expect(describeSnapshots([3, 4])).toBe('Snapshots: versions 3 and 4');
    expect(describeSnapshots([2, 5, 9])).toBe('Snapshots: versions 2, 5 and 9');
  });
});

describe('describeTimeline', () => {
  const newestFirst = async (count: number, keep = count): Promise<LedgerEvent[]> => {
    const { ledger } = memoryLedger();
    await seedAccount(ledger, { id: 'x', deposits: Array.from({ length: count - 1 }, () => 1) });
    return ledger.timeline('x', keep);
  };

  it('counts the events shown, and says when only the newest are', async () => {
    expect(describeTimeline(await newestFirst(1), 'x')).toBe('1 event of #x');
    expect(describeTimeline(await newestFirst(3), 'x')).toBe('3 events of #x, newest first');
    expect(describeTimeline(await newestFirst(60, 50), 'x')).toBe(
      'The newest 50 events of #x, newest first',
    );
    expect(describeTimeline([], 'x')).toBe('0 events of #x');
  });
});
