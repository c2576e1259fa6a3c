import { afterEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { createEventStore, createMemoryKv, type EventStoreOptions } from '../src/index.js';
import { createManualClock } from '../src/testing/index.js';

const METHODS = ['debug', 'info', 'warn', 'error', 'log'] as const;

/** Spies on every console method, each replaced by a no-op so nothing is printed. */
const spyOnConsole = (): Record<(typeof METHODS)[number], MockInstance> => {
  const spies = {} as Record<(typeof METHODS)[number], MockInstance>;
  for (const method of METHODS)
    spies[method] = vi.spyOn(console, method).mockImplementation(() => {});
  return spies;
};

/**
 * Does what makes the store log at every level: appends, a retried append, a version
 * mismatch, a session opened, renewed, refused to a second opener, outlived and closed,
 * snapshots saved and cleared.
 */
const exercise = async (options: Omit<EventStoreOptions, 'kv' | 'clock'> = {}) => {
  const clock = createManualClock();
  const store = createEventStore({ kv: createMemoryKv(), clock, ...options });
  const stream = store.stream({ type: 'A', id: '1' });
  await stream.append({ type: 'T' });
  const retried = { type: 'T', metadata: { messageId: 'm-1' } };
  await stream.append(retried);
  await stream.append(retried);
  await expect(stream.append({ type: 'T' }, { expectedVersion: 0 })).rejects.toMatchObject({
    code: 'VERSION_MISMATCH',
  });
  await stream.saveSnapshot(1, { n: 1 });
  await stream.clearSnapshots();

  const session = await store.open({ type: 'A', id: '2' }, { sessionTimeoutMs: 1000 });
  await session.append({ type: 'T' });
  await session.renew();
  await expect(store.open({ type: 'A', id: '2' })).rejects.toMatchObject({ code: 'OPEN_FAILED' });
  await session.close();

  const expiring = await store.open({ type: 'A', id: '3' }, { sessionTimeoutMs: 1000 });
  clock.advance(2000);
  await expect(expiring.append({ type: 'T' })).rejects.toMatchObject({ code: 'SESSION_EXPIRED' });
  await expiring.close().catch(() => {});
};

describe('logging', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is silent by default: nothing reaches the console', async () => {
    const spies = spyOnConsole();
    await exercise();
    for (const method of METHODS) expect(spies[method], `console.${method}`).not.toHaveBeenCalled();
  });

  it('with logger: console, writes its entries to the console, each with its event', async () => {
    const spies = spyOnConsole();
    await exercise({ logger: console });
    const entry = (event: string) => [
      expect.stringMatching(/^eventkv: /),
      expect.objectContaining({ event }),
    ];
    expect(spies.info).toHaveBeenCalledWith(...entry('store.opened'));
    expect(spies.info).toHaveBeenCalledWith(...entry('store.closed'));
    expect(spies.info).toHaveBeenCalledWith(...entry('append.deduplicated'));
    expect(spies.info).toHaveBeenCalledWith(...entry('snapshot.saved'));
    expect(spies.info).toHaveBeenCalledWith(...entry('snapshots.cleared'));
    expect(spies.debug).toHaveBeenCalledWith(...entry('events.appended'));
    expect(spies.debug).toHaveBeenCalledWith(...entry('session.renewed'));
    expect(spies.warn).toHaveBeenCalledWith(...entry('version.mismatch'));
    expect(spies.warn).toHaveBeenCalledWith(...entry('session.expired'));
    expect(spies.error).toHaveBeenCalledWith(...entry('open.failed'));
    expect(spies.info).toHaveBeenCalledWith(
      expect.any(String),
      expect.objectContaining({ event: 'store.opened', database: 'default', type: 'A', id: '2' }),
    );
    expect(spies.log).not.toHaveBeenCalled();
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
