import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute, type Route } from '../src/route';

describe('routes in the address fragment', () => {
  it('formats and parses every screen of both stores', () => {
    const routes: Route[] = [
      { mode: 'local', view: 'accounts' },
      { mode: 'edge', view: 'accounts' },
      { mode: 'local', view: 'audit' },
      { mode: 'edge', view: 'audit' },
      { mode: 'local', view: 'account', id: '3f2a9c01' },
      { mode: 'edge', view: 'account', id: 'acc-1' },
    ];
    for (const route of routes) expect(parseRoute(formatRoute(route))).toEqual(route);
    expect(formatRoute({ mode: 'local', view: 'accounts' })).toBe('#/local');
    expect(formatRoute({ mode: 'edge', view: 'audit' })).toBe('#/edge/audit');
    expect(formatRoute({ mode: 'local', view: 'account', id: 'abc' })).toBe('#/local/account/abc');
  });

  it('encodes ids so that any character survives the round trip', () => {
    for (const id of ['a/b', 'a b', 'a#b', '100%', 'a?b=c&d', 'é€😀', '..', '%2F']) {
      const hash = formatRoute({ mode: 'local', view: 'account', id });
      expect(hash.split('/')).toHaveLength(4);
      expect(parseRoute(hash)).toEqual({ mode: 'local', view: 'account', id });
    }
  });

  it('accepts an unencoded slash in an id typed into the address', () => {
    expect(parseRoute('#/local/account/a/b')).toEqual({
      mode: 'local',
      view: 'account',
      id: 'a/b',
    });
  });

  it('falls back to the local accounts list for anything it does not know', () => {
    for (const hash of ['', '#', '#/', '#/local', '#/unknown', '#/nonsense/view', '#connect=x']) {
      expect(parseRoute(hash), hash).toEqual({ mode: 'local', view: 'accounts' });
    }
  });

  it('keeps the store and shows its list for an unknown or incomplete screen', () => {
    expect(parseRoute('#/edge')).toEqual({ mode: 'edge', view: 'accounts' });
    expect(parseRoute('#/edge/whatever')).toEqual({ mode: 'edge', view: 'accounts' });
    expect(parseRoute('#/edge/account')).toEqual({ mode: 'edge', view: 'accounts' });
    expect(parseRoute('#/edge/account/')).toEqual({ mode: 'edge', view: 'accounts' });
    expect(parseRoute('#/local/account/%E0%A4%A')).toEqual({ mode: 'local', view: 'accounts' });
  });

  it('reads a fragment without the leading slash', () => {
    expect(parseRoute('#edge/audit')).toEqual({ mode: 'edge', view: 'audit' });
  });
});
