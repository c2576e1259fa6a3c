/** Which screen the app shows. Kept in the address's fragment. */
export type Route =
  | { readonly view: 'accounts' }
  | { readonly view: 'account'; readonly id: string }
  | { readonly view: 'audit' }
  | { readonly view: 'sync' };

export const parseRoute = (hash: string): Route => {
  const parts = hash.replace(/^#\/?/, '').split('/');
  // Addresses of the demo's earlier two modes (`#/local/...`, `#/edge/...`) still work.
  if (parts[0] === 'local' || parts[0] === 'edge') parts.shift();
  const [view, ...rest] = parts;
  if (view === 'account' && rest.length > 0) {
    try {
      const id = decodeURIComponent(rest.join('/'));
      if (id.length > 0) return { view: 'account', id };
    } catch {
      // a malformed escape: fall through to the list
    }
  }
  if (view === 'audit') return { view: 'audit' };
  if (view === 'sync') return { view: 'sync' };
  return { view: 'accounts' };
};

export const formatRoute = (route: Route): string => {
  switch (route.view) {
    case 'accounts':
      return '#/';
    case 'account':
      return `#/account/${encodeURIComponent(route.id)}`;
    case 'audit':
      return '#/audit';
    case 'sync':
      return '#/sync';
  }
};
