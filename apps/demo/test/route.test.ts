import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute, type Route } from '../src/route';

describe('routes in the address fragment', () => {
  it('formats and parses every screen', () => {
    const routes: Route[] = [
      { view: 'accounts' },
      { view: 'audit' },
      { view: 'sync' },
      { view: 'account', id: '3f2a9c01' },
      { view: 'account', id: 'acc-1' },
    ];
    for (const route of routes) expect(parseRoute(formatRoute(route))).toEqual(route);
    expect(formatRoute({ view: 'accounts' })).toBe('#/');
    expect(formatRoute({ view: 'audit' })).toBe('#/audit');
    expect(formatRoute({ view: 'sync' })).toBe('#/sync');
    expect(formatRoute({ view: 'account', id: 'abc' })).toBe('#/account/abc');
  });

  it('encodes ids so that any character survives the round trip', () => {
    for (const id of ['a/b', 'a b', 'a#b', '100%', 'a?b=c&d', 'é€😀', '..', '%2F', 'local']) {
      const hash = formatRoute({ view: 'account', id });
      expect(hash.split('/')).toHaveLength(3);
      expect(parseRoute(hash)).toEqual({ view: 'account', id });
    }
  });

  it('accepts an unencoded slash in an id typed into the address', () => {
    expect(parseRoute('#/account/a/b')).toEqual({ view: 'account', id: 'a/b' });
  });

  it('still opens the addresses of the earlier two modes, on the one store', () => {
    expect(parseRoute('#/local')).toEqual({ view: 'accounts' });
    expect(parseRoute('#/edge')).toEqual({ view: 'accounts' });
    expect(parseRoute('#/local/audit')).toEqual({ view: 'audit' });
    expect(parseRoute('#/edge/audit')).toEqual({ view: 'audit' });
    expect(parseRoute('#/local/account/3f2a9c01')).toEqual({ view: 'account', id: '3f2a9c01' });
    expect(parseRoute('#/edge/account/acc-1')).toEqual({ view: 'account', id: 'acc-1' });
    expect(parseRoute('#/edge/account/a%2Fb')).toEqual({ view: 'account', id: 'a/b' });
    expect(parseRoute('#edge/audit')).toEqual({ view: 'audit' });
    // Only the first part is a mode: an id may be called "local".
    expect(parseRoute('#/account/local')).toEqual({ view: 'account', id: 'local' });
    expect(parseRoute('#/local/account/edge')).toEqual({ view: 'account', id: 'edge' });
  });

  it('falls back to the accounts list for anything it does not know', () => {
    for (const hash of [
      '',
      '#',
      '#/',
      '#/unknown',
      '#/nonsense/view',
      '#connect=x',
      '#/account',
      '#/account/',
      '#/edge/whatever',
      '#/edge/account',
      '#/local/account/%E0%A4%A',
      '#/local/local/audit',
    ]) {
      expect(parseRoute(hash), hash).toEqual({ view: 'accounts' });
    }
  });

  it('reads a fragment without the leading slash', () => {
    expect(parseRoute('#audit')).toEqual({ view: 'audit' });
    expect(parseRoute('#sync')).toEqual({ view: 'sync' });
    expect(parseRoute('#account/x')).toEqual({ view: 'account', id: 'x' });
  });
});
