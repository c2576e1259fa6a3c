import type { LiveState } from '../live.js';
import type { SyncStatus } from '../synced-store.js';

/** Which tab syncs: the leader; the others follow it. */
export type SyncRole = 'leader' | 'follower';

/** What an app can show about syncing: the store's status and the agent's. */
export interface SyncAgentStatus extends SyncStatus {
  /** Whether this tab syncs (`leader`) or follows the one that does. */
  readonly role: SyncRole;
  /** `false` when the device says it is offline. */
  readonly online: boolean;
  /** The leader's live connection to the edge (`off`: none, or no leader heard yet). */
  readonly connection: LiveState;
  /** A run is under way (in the leader). */
  readonly syncing: boolean;
  /** Persistent storage granted; `undefined` where it cannot be told. */
  readonly persisted: boolean | undefined;
  /** How long the oldest unsynced event has been at risk (now - `oldestPendingAt`), in ms. */
  readonly atRiskMs: number | undefined;
}

export interface AgentPart {
  readonly role: SyncRole;
  readonly online: boolean;
  readonly connection: LiveState;
  readonly syncing: boolean;
  readonly persisted: boolean | undefined;
}

export const agentStatus = (store: SyncStatus, agent: AgentPart, now: number): SyncAgentStatus => ({
  ...store,
  ...agent,
  atRiskMs:
    store.oldestPendingAt === undefined ? undefined : Math.max(0, now - store.oldestPendingAt),
});

/** Two statuses say the same (the time at risk aside, which grows by itself). */
export const sameStatus = (a: SyncAgentStatus | undefined, b: SyncAgentStatus): boolean => {
  if (a === undefined) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete('atRiskMs');
  const of = (status: SyncAgentStatus, key: string) =>
    JSON.stringify((status as unknown as Record<string, unknown>)[key]);
  return [...keys].every((key) => of(a, key) === of(b, key));
};
