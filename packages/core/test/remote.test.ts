import { describe, expect, it } from 'vitest';
import {
  checkName,
  checkSnapshotState,
  checkTime,
  isSessionExpiredError,
  NotOpenError,
  prepareRemoteAppend,
  remoteSessionError,
  VersionMismatchError,
} from '../src/index.js';

describe('helpers of remote stores', () => {
  it('prepareRemoteAppend checks as a store does and gives each event its id once', () => {
    let n = 0;
    const ids = () => `id-${++n}`;
    const data = Object.assign(Object.create(null), { amount: 5 });
    const { events, expectedVersion } = prepareRemoteAppend(
      [
        { type: 'Deposited', data },
        { type: 'Deposited', data: { amount: 6 }, metadata: { messageId: 'mine', userId: 'ann' } },
      ],
      { expectedVersion: 3 },
      ids,
    );
    expect(expectedVersion).toBe(3);
    expect(events).toEqual([
      { type: 'Deposited', data: { amount: 5 }, metadata: { messageId: 'id-1' } },
      { type: 'Deposited', data: { amount: 6 }, metadata: { messageId: 'mine', userId: 'ann' } },
    ]);
    // A checked copy with plain prototypes, frozen: what a retry sends is what was checked.
    expect(Object.getPrototypeOf(events[0]?.data)).toBe(Object.prototype);
    expect(Object.isFrozen(events[0]?.data)).toBe(true);
    expect(prepareRemoteAppend({ type: 'T' }).expectedVersion).toBe('any');
    expect(() => prepareRemoteAppend([{ type: 'T', data: { f: () => 1 } }])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'events[0].data.f' }),
    );
    expect(() => prepareRemoteAppend([], undefined)).toThrow(
      expect.objectContaining({ field: 'events' }),
    );
  });

  it('checkSnapshotState returns a checked copy; checkName refuses what a store refuses', () => {
    const state = { at: new Date(1), list: [1] };
    const copy = checkSnapshotState(state);
    expect(copy).toEqual(state);
    expect(copy).not.toBe(state);
    expect(() => checkSnapshotState({ s: Symbol('x') })).toThrow(
      expect.objectContaining({ field: 'state.s' }),
    );
    expect(checkName('ref.id', 'a/b é')).toBe('a/b é');
    for (const bad of ['', 'a\u0085', 'x\ud800', 'y\n']) {
      expect(() => checkName('ref.id', bad)).toThrow(expect.objectContaining({ field: 'ref.id' }));
    }
  });

  it('checkTime takes a Date or milliseconds since the epoch, and refuses anything else naming the field', () => {
    expect(checkTime('options.since', undefined)).toBeUndefined();
    expect(checkTime('options.since', new Date(1234))).toBe(1234);
    expect(checkTime('options.until', 0)).toBe(0);
    for (const bad of [-1, 1.5, Number.NaN, '1', new Date(Number.NaN), null]) {
      expect(() => checkTime('options.until', bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'options.until' }),
      );
    }
  });

  it('remoteSessionError reports a lost lease past the expiry as SESSION_EXPIRED, and nothing else', () => {
    const session = {
      ref: { database: 'default', type: 'A', id: '1' },
      sessionId: 's-1',
      expiresAt: 1000,
    };
    const notOpen = new NotOpenError(session.ref, 's-1');
    const taken = Object.assign(new Error('taken'), { code: 'INVALID_SESSION' });
    expect(isSessionExpiredError(remoteSessionError(notOpen, session, 1000))).toBe(true);
    expect(remoteSessionError(taken, session, 2000)).toMatchObject({
      code: 'SESSION_EXPIRED',
      expiredAt: 1000,
      sessionId: 's-1',
    });
    // Before the expiry the server's answer stands; other errors pass through.
    expect(remoteSessionError(notOpen, session, 999)).toBe(notOpen);
    const mismatch = new VersionMismatchError(session.ref, 1, 2);
    expect(remoteSessionError(mismatch, session, 5000)).toBe(mismatch);
  });
});
