import type { SyncAgentStatus } from '@eventkv/sync';

/** What the header says about syncing: a short title, a sentence, and its colour. */
export interface SyncSummary {
  readonly tone: 'synced' | 'pending' | 'offline' | 'conflict' | 'error' | 'local';
  readonly title: string;
  readonly detail: string;
}

const count = (n: number, noun: string) => `${n} ${n === 1 ? noun : `${noun}s`}`;

/** A message as a sentence: it ends with a full stop. */
const sentence = (text: string): string =>
  /[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`;

/** "just now", "5 minutes", "3 hours", "2 days": how long, in words. */
export const duration = (ms: number): string => {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 60) return count(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return count(hours, 'hour');
  return count(Math.floor(hours / 24), 'day');
};

/**
 * Browsers may clear the storage of a site not visited for a while unless it is
 * persistent: a pending change is at risk until the Worker has it.
 */
const risk = (status: SyncAgentStatus): string => {
  if (status.pending === 0) return '';
  const since = status.atRiskMs === undefined ? '' : ` Unsynced for ${duration(status.atRiskMs)}.`;
  const kept =
    status.persisted === true
      ? ' The browser keeps this site’s storage.'
      : ' Until then they exist only in this browser, which may clear a site’s storage when space runs low.';
  return `${since}${kept}`;
};

/**
 * The sync state in words, most pressing first: a conflict needs the person; offline and
 * failing say that changes are kept here; pending says it is on its way.
 */
export const summarize = (status: SyncAgentStatus, connected: boolean): SyncSummary => {
  const changes = count(status.pending, 'change');
  if (status.conflicts > 0) {
    return {
      tone: 'conflict',
      title: `Conflict on ${count(status.conflicts, 'account')}`,
      detail:
        'Changes made here met changes from another device. Open the account to retry them on the new balance or drop them.',
    };
  }
  if (!connected) {
    return {
      tone: 'local',
      title: status.pending === 0 ? 'This device only' : `${changes} on this device only`,
      detail: `No Worker is set up: accounts live in this browser.${risk(status)}`,
    };
  }
  if (!status.online) {
    return {
      tone: 'offline',
      title: status.pending === 0 ? 'Offline' : `Offline · ${changes} kept here`,
      detail: `Everything keeps working; changes sync when the network is back.${risk(status)}`,
    };
  }
  if (status.lastError && (status.lastSuccessAt ?? 0) < status.lastError.at) {
    const { code, message } = status.lastError;
    if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN') {
      return {
        tone: 'error',
        title: status.pending === 0 ? 'Sync refused' : `Sync refused · ${changes} waiting`,
        detail: `The Worker refused the token (${code}): set a new one on the Sync page.${risk(status)}`,
      };
    }
    return {
      tone: 'error',
      title: status.pending === 0 ? 'Sync failing' : `Sync failing · ${changes} waiting`,
      detail: `${sentence(message)} Retrying on its own.${risk(status)}`,
    };
  }
  if (status.pending > 0 || status.syncing) {
    return {
      tone: 'pending',
      title: status.pending === 0 ? 'Syncing' : `Pending · ${changes}`,
      detail: `On the way to the Worker.${risk(status)}`,
    };
  }
  if (status.lastSuccessAt === undefined) {
    return {
      tone: 'pending',
      title: 'Not synced yet',
      detail: 'Waiting for the first sync with the Worker.',
    };
  }
  return {
    tone: 'synced',
    title: 'Synced',
    detail:
      status.connection === 'live'
        ? 'Up to date with the Worker; changes from other devices arrive as they happen.'
        : 'Up to date with the Worker.',
  };
};
