import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  type Backend,
  createBackend,
  type EdgeSettings,
  loadEdgeSettings,
  SETTINGS_KEY,
  saveEdgeSettings,
  settingsFromFragment,
} from '../backends';
import { formatRoute, parseRoute, type Route } from '../route';
import { AccountView } from './account';
import { AccountsView } from './accounts';
import { AuditView } from './audit';
import { EdgeSettingsForm } from './edge';
import { SyncBar, SyncDetails, useSyncStatus } from './sync';

export interface AppProps {
  /** Builds the backend from the saved settings; tests pass their own. */
  readonly backend?: (settings: EdgeSettings | undefined) => Backend;
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
 * which then shows the accounts: the link was opened to sync them.
 */
const takeFragmentSettings = (): EdgeSettings | undefined => {
  const handed = settingsFromFragment(location.hash);
  if (handed) {
    saveEdgeSettings(handed);
    history.replaceState(null, '', `${location.pathname}${location.search}#/`);
  }
  return handed;
};

export const App = ({ backend: make = (settings) => createBackend({ settings }) }: AppProps) => {
  // Before the route is read: a hand-over rewrites the address.
  const [handed] = useState(takeFragmentSettings);
  /** The endpoint just connected to (by the link, or the settings form): said on the page. */
  const [connected, setConnected] = useState(handed?.endpoint);
  const [route, navigate] = useHashRoute();
  const [user, setUser] = useState(() => localStorage.getItem(USER_KEY) ?? 'alice');
  const [online, setOnline] = useState(() => navigator.onLine);
  const backend = useMemo(() => make(handed ?? loadEdgeSettings()), []);
  const [settings, setSettings] = useState(backend.settings);
  const status = useSyncStatus(backend);

  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    addEventListener('online', update);
    addEventListener('offline', update);
    // Another tab connected to a Worker: this one syncs with it too.
    const onStorage = (event: StorageEvent) => {
      const next = event.key === SETTINGS_KEY ? loadEdgeSettings() : undefined;
      if (next) {
        setSettings(next);
        void backend.connect(next);
      }
    };
    addEventListener('storage', onStorage);
    return () => {
      removeEventListener('online', update);
      removeEventListener('offline', update);
      removeEventListener('storage', onStorage);
      void backend.close();
    };
  }, [backend]);

  const actor = { userId: user.trim() || 'anonymous' };
  const connect = (next: EdgeSettings) => {
    saveEdgeSettings(next);
    setSettings(next);
    setConnected(next.endpoint);
    void backend.connect(next);
  };

  return (
    <>
      <header class="top">
        <h1>
          <a href="#/">eventkv ledger</a>
        </h1>
        <nav aria-label="Views">
          {(
            [
              ['accounts', 'Accounts'],
              ['audit', 'Audit'],
              ['sync', 'Sync'],
            ] as const
          ).map(([view, label]) => (
            <a
              key={view}
              href={formatRoute({ view })}
              aria-current={
                route.view === view || (view === 'accounts' && route.view === 'account')
                  ? 'page'
                  : undefined
              }
            >
              {label}
            </a>
          ))}
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
            <strong>You are offline.</strong> The app keeps working: changes are kept on this device
            and sync when the network is back.
          </p>
        )}
        {connected && <p class="connected">Syncing with the Worker at {connected}.</p>}
      </div>
      <SyncBar backend={backend} status={status} connected={settings !== undefined} />
      <main>
        {route.view === 'account' ? (
          <AccountView
            key={route.id}
            backend={backend}
            id={route.id}
            actor={actor}
            onBack={() => navigate({ view: 'accounts' })}
          />
        ) : route.view === 'audit' ? (
          <AuditView backend={backend} user={actor.userId} />
        ) : route.view === 'sync' ? (
          <>
            <EdgeSettingsForm settings={settings} onSave={connect} />
            <SyncDetails status={status} settings={settings} />
          </>
        ) : (
          <AccountsView
            backend={backend}
            actor={actor}
            onOpen={(id) => navigate({ view: 'account', id })}
          />
        )}
      </main>
    </>
  );
};
