import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  type Backend,
  createEdgeBackend,
  createLocalBackend,
  type EdgeSettings,
  loadEdgeSettings,
  saveEdgeSettings,
  settingsFromFragment,
} from '../backends';
import { formatRoute, parseRoute, type Route } from '../route';
import { AccountView } from './account';
import { AccountsView } from './accounts';
import { AuditView } from './audit';
import { EdgeSettingsForm } from './edge';

export interface AppProps {
  /** Builds the backends; tests pass their own. */
  readonly local?: () => Backend;
  readonly edge?: (settings: EdgeSettings) => Backend;
}

const USER_KEY = 'eventkv-demo:user';

const useHashRoute = (): [Route, (route: Route) => void] => {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  const navigate = (next: Route) => {
    location.hash = formatRoute(next);
  };
  return [route, navigate];
};

/**
 * Endpoint settings handed over in the fragment are saved and removed from the address,
 * which then shows the Worker's accounts: the link was opened to use them.
 */
const takeFragmentSettings = (): EdgeSettings | undefined => {
  const handed = settingsFromFragment(location.hash);
  if (handed) {
    saveEdgeSettings(handed);
    history.replaceState(null, '', `${location.pathname}${location.search}#/edge`);
  }
  return handed;
};

export const App = ({ local = createLocalBackend, edge = createEdgeBackend }: AppProps) => {
  // Before the route is read: a hand-over rewrites the address.
  const [handed] = useState(takeFragmentSettings);
  const [edgeSettings, setEdgeSettings] = useState(() => handed ?? loadEdgeSettings());
  /** The endpoint just connected to (by the link, or the settings form): said on the page. */
  const [connected, setConnected] = useState(handed?.endpoint);
  const [route, navigate] = useHashRoute();
  const [user, setUser] = useState(() => localStorage.getItem(USER_KEY) ?? 'alice');
  const [online, setOnline] = useState(() => navigator.onLine);

  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    addEventListener('online', update);
    addEventListener('offline', update);
    return () => {
      removeEventListener('online', update);
      removeEventListener('offline', update);
    };
  }, []);

  const localBackend = useMemo(local, []);
  const edgeBackend = useMemo(
    () => (edgeSettings ? edge(edgeSettings) : undefined),
    [edgeSettings?.endpoint, edgeSettings?.token],
  );
  useEffect(() => () => localBackend.close(), [localBackend]);

  const backend = route.mode === 'edge' ? edgeBackend : localBackend;
  const actor = { userId: user.trim() || 'anonymous' };
  const go = (next: Partial<Route> & Pick<Route, 'view'>) =>
    navigate({ mode: route.mode, ...next } as Route);

  return (
    <>
      <header class="top">
        <h1>
          <a href="#/local">eventkv ledger</a>
        </h1>
        <nav aria-label="Store">
          <a href="#/local" aria-current={route.mode === 'local' ? 'page' : undefined}>
            This browser
          </a>
          <a href="#/edge" aria-current={route.mode === 'edge' ? 'page' : undefined}>
            Worker endpoint
          </a>
        </nav>
        <nav aria-label="Views">
          <a
            href={formatRoute({ mode: route.mode, view: 'accounts' })}
            aria-current={route.view !== 'audit' ? 'page' : undefined}
          >
            Accounts
          </a>
          <a
            href={formatRoute({ mode: route.mode, view: 'audit' })}
            aria-current={route.view === 'audit' ? 'page' : undefined}
          >
            Audit
          </a>
        </nav>
        <label class="user">
          Acting as
          <input
            value={user}
            maxLength={64}
            autoComplete="username"
            onInput={(e) => {
              const value = e.currentTarget.value;
              setUser(value);
              localStorage.setItem(USER_KEY, value);
            }}
          />
        </label>
      </header>
      <div class="status" role="status">
        {!online && (
          <p class="offline">
            <strong>You are offline.</strong> The app keeps working: changes to this browser’s
            accounts are kept on this device.
          </p>
        )}
        {route.mode === 'edge' && connected && (
          <p class="connected">Connected to the Worker at {connected}.</p>
        )}
        <p class="where">
          {backend ? `Events are stored in ${backend.label}.` : 'No Worker endpoint is set up.'}
        </p>
      </div>
      <main>
        {route.mode === 'edge' && (
          <EdgeSettingsForm
            settings={edgeSettings}
            onSave={(settings) => {
              saveEdgeSettings(settings);
              setEdgeSettings(settings);
              setConnected(settings.endpoint);
            }}
          />
        )}
        {backend &&
          (route.view === 'account' ? (
            <AccountView
              key={`${backend.mode}:${route.id}`}
              backend={backend}
              id={route.id}
              actor={actor}
              onBack={() => go({ view: 'accounts' })}
            />
          ) : route.view === 'audit' ? (
            <AuditView key={backend.mode} backend={backend} user={actor.userId} />
          ) : (
            <AccountsView
              key={backend.mode}
              backend={backend}
              actor={actor}
              onOpen={(id) => go({ view: 'account', id })}
            />
          ))}
      </main>
    </>
  );
};
