import type { SyncAgentStatus } from '@eventkv/sync';
import { describe, expect, it } from 'vitest';
import { duration, summarize } from '../src/sync-status';

const status = (overrides: Partial<SyncAgentStatus> = {}): SyncAgentStatus => ({
  clientId: 'c',
  pending: 0,
  oldestPendingAt: undefined,
  conflicts: 0,
  lastSuccessAt: 1,
  lastError: undefined,
  role: 'leader',
  online: true,
  connection: 'live',
  syncing: false,
  persisted: false,
  atRiskMs: undefined,
  ...overrides,
});

describe('duration', () => {
  it('says how long in words', () => {
    expect(duration(10_000)).toBe('less than a minute');
    expect(duration(60_000)).toBe('1 minute');
    expect(duration(5 * 60_000)).toBe('5 minutes');
    expect(duration(3 * 3600_000)).toBe('3 hours');
    expect(duration(3 * 24 * 3600_000)).toBe('3 days');
  });
});

describe('summarize', () => {
  it('does not claim to be synced before the first sync succeeded', () => {
    expect(summarize(status({ lastSuccessAt: undefined }), true)).toMatchObject({
      tone: 'pending',
      title: 'Not synced yet',
    });
  });

  it('is synced when nothing waits, and says when changes arrive live', () => {
    expect(summarize(status(), true)).toMatchObject({ tone: 'synced', title: 'Synced' });
    expect(summarize(status(), true).detail).toMatch(/as they happen/);
    expect(summarize(status({ connection: 'polling' }), true).detail).not.toMatch(/as they happen/);
  });

  it('counts pending changes and says how long they have been at risk', () => {
    const s = summarize(status({ pending: 3, atRiskMs: 5 * 60_000 }), true);
    expect(s).toMatchObject({ tone: 'pending', title: 'Pending · 3 changes' });
    expect(s.detail).toMatch(/Unsynced for 5 minutes\./);
    expect(s.detail).toMatch(/may clear/);
    expect(summarize(status({ pending: 1, persisted: true }), true).detail).toMatch(
      /keeps this site/,
    );
    expect(summarize(status({ pending: 1 }), true).title).toBe('Pending · 1 change');
  });

  it('shows offline with what is kept here', () => {
    expect(summarize(status({ online: false }), true)).toMatchObject({
      tone: 'offline',
      title: 'Offline',
    });
    expect(summarize(status({ online: false, pending: 2 }), true).title).toBe(
      'Offline · 2 changes kept here',
    );
  });

  it('puts a conflict first', () => {
    const s = summarize(status({ conflicts: 1, pending: 2, online: false }), true);
    expect(s).toMatchObject({ tone: 'conflict', title: 'Conflict on 1 account' });
  });

  it('reports a failure newer than the last success, and not an old one', () => {
    const failing = status({
      pending: 1,
      lastError: { at: 20, message: 'The Worker is down.' },
      lastSuccessAt: 10,
    });
    expect(summarize(failing, true)).toMatchObject({
      tone: 'error',
      title: 'Sync failing · 1 change waiting',
    });
    expect(summarize(failing, true).detail).toMatch(/^The Worker is down\. Retrying/);
    const recovered = status({ lastError: { at: 5, message: 'x' }, lastSuccessAt: 10 });
    expect(summarize(recovered, true).tone).toBe('synced');
  });

  it('ends a failure message with a full stop, and says a refused token needs replacing', () => {
    const cut = status({
      pending: 1,
      lastError: { at: 20, message: 'the request failed' },
      lastSuccessAt: 10,
    });
    expect(summarize(cut, true).detail).toMatch(/^the request failed\. Retrying on its own\./);
    const refused = status({
      pending: 2,
      lastError: { at: 20, message: 'Invalid bearer token', code: 'UNAUTHORIZED' },
    });
    expect(summarize(refused, true)).toMatchObject({
      tone: 'error',
      title: 'Sync refused · 2 changes waiting',
    });
    expect(summarize(refused, true).detail).toMatch(/set a new one on the Sync page/);
  });

  it('says when there is no Worker to sync with', () => {
    expect(summarize(status(), false)).toMatchObject({ tone: 'local', title: 'This device only' });
    expect(summarize(status({ pending: 4 }), false).title).toBe('4 changes on this device only');
  });
});
