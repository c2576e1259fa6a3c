import type { SyncAgentStatus } from '@eventkv/sync';
import { useEffect, useState } from 'preact/hooks';
import type { Backend, EdgeSettings } from '../backends';
import { duration, summarize } from '../sync-status';
import { Section } from './common';
import { formatTime } from './format';

/** How often the time at risk is brought up to date on the page. */
const TICK_MS = 30_000;

/**
 * The sync status as the page shows it: from the tab's agent (the same in every tab),
 * refreshed on its events, on local changes and every half minute (the time at risk grows).
 */
export const useSyncStatus = (backend: Backend): SyncAgentStatus | undefined => {
  const [status, setStatus] = useState<SyncAgentStatus>();
  useEffect(() => {
    let alive = true;
    let agent = backend.agent;
    const refresh = () => {
      agent.status().then(
        (next) => alive && setStatus(next),
        () => {},
      );
    };
    const listen = () =>
      agent.on((event) => {
        if (event.type === 'status') setStatus(event.status);
        else refresh();
      });
    let stopListening = listen();
    refresh();
    const stopAgent = backend.onAgent((next) => {
      stopListening();
      agent = next;
      stopListening = listen();
      refresh();
    });
    const stopWatching = backend.watchChanges(refresh);
    const timer = setInterval(refresh, TICK_MS);
    return () => {
      alive = false;
      stopListening();
      stopAgent();
      stopWatching();
      clearInterval(timer);
    };
  }, [backend]);
  return status;
};

/** The sync state under the header: synced, pending N, offline, conflict... and "Sync now". */
export const SyncBar = ({
  backend,
  status,
  connected,
}: {
  backend: Backend;
  status: SyncAgentStatus | undefined;
  connected: boolean;
}) => {
  const [busy, setBusy] = useState(false);
  if (!status) return null;
  const summary = summarize(status, connected);
  return (
    <section class={`sync sync-${summary.tone}`} aria-label="Sync status" data-tone={summary.tone}>
      <p>
        <strong data-testid="sync-title">{summary.title}</strong>{' '}
        <span class="detail">{summary.detail}</span>
      </p>
      {connected ? (
        <button
          type="button"
          class="secondary"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            // The outcome shows in the status (a failure as the last error).
            backend.agent
              .syncNow()
              .catch(() => {})
              .finally(() => setBusy(false));
          }}
        >
          Sync now
        </button>
      ) : (
        <a href="#/sync">Set up a Worker</a>
      )}
    </section>
  );
};

/** The sync settings' page: where this device stands with the Worker, in detail. */
export const SyncDetails = ({
  status,
  settings,
}: {
  status: SyncAgentStatus | undefined;
  settings: EdgeSettings | undefined;
}) => {
  if (!status) return null;
  const rows: [string, string][] = [
    ['Worker', settings ? settings.endpoint : 'none: accounts stay in this browser'],
    [
      'This tab',
      status.role === 'leader'
        ? 'syncs for every tab of this browser'
        : 'follows the tab that syncs',
    ],
    ['Connection', CONNECTION[status.connection]],
    ['Changes not synced', String(status.pending)],
    [
      'Oldest unsynced change',
      status.atRiskMs === undefined ? '—' : `${duration(status.atRiskMs)} ago`,
    ],
    ['Conflicts to settle', String(status.conflicts)],
    [
      'Storage',
      status.persisted === true
        ? 'persistent: the browser will not clear it on its own'
        : status.persisted === false
          ? 'best effort: the browser may clear it when space runs low'
          : 'unknown',
    ],
    [
      'Last synced',
      status.lastSuccessAt === undefined ? 'never' : formatTime(status.lastSuccessAt),
    ],
    [
      'Last error',
      status.lastError ? `${formatTime(status.lastError.at)}: ${status.lastError.message}` : 'none',
    ],
  ];
  return (
    <Section title="Sync">
      <dl class="details">
        {rows.map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </Section>
  );
};

const CONNECTION: Record<SyncAgentStatus['connection'], string> = {
  live: 'live: the Worker pokes this device when there is news',
  polling: 'polling: the Worker answers when there is news (no WebSocket)',
  connecting: 'connecting…',
  offline: 'offline',
  off: 'none',
};
