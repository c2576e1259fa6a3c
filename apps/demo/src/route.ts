import type { Mode } from './backends';

/** Where the app is: which store, which screen. Kept in the address's fragment. */
export type Route =
  | { readonly mode: Mode; readonly view: 'accounts' }
  | { readonly mode: Mode; readonly view: 'account'; readonly id: string }
  | { readonly mode: Mode; readonly view: 'audit' };

export const parseRoute = (hash: string): Route => {
  const [mode, view, ...rest] = hash.replace(/^#\/?/, '').split('/');
  const m: Mode = mode === 'edge' ? 'edge' : 'local';
  if (view === 'account' && rest.length > 0) {
    try {
      const id = decodeURIComponent(rest.join('/'));
      if (id.length > 0) return { mode: m, view: 'account', id };
    } catch {
      // a malformed escape: fall through to the list
    }
  }
  if (view === 'audit') return { mode: m, view: 'audit' };
  return { mode: m, view: 'accounts' };
};

export const formatRoute = (route: Route): string => {
  switch (route.view) {
    case 'accounts':
      return `#/${route.mode}`;
    case 'account':
      return `#/${route.mode}/account/${encodeURIComponent(route.id)}`;
    case 'audit':
      return `#/${route.mode}/audit`;
  }
};
