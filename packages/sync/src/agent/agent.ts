import { defaultIdGenerator, type EventShape } from '@eventkv/core';
import type { Conflict } from '../context.js';
import {
  type BackoffPolicy,
  createLiveConnection,
  globalNetwork,
  type LiveConnection,
  type LiveConnectionOptions,
  type LiveState,
  systemTimers,
} from '../live.js';
import type { SyncRemote } from '../remote.js';
import type { SyncedStore } from '../synced-store.js';
import { createBackgroundSync, isNetworkFailure } from './background-sync.js';
import {
  errorFrom,
  errorShape,
  openTabChannel,
  type TabChannel,
  type TabMessage,
} from './channel.js';
import { platformEnvironment, type SyncAgentEnvironment } from './environment.js';
import { type Candidacy, electLeader } from './leader.js';
import { createPersistence } from './persistence.js';
import { agentStatus, type SyncAgentStatus, type SyncRole, sameStatus } from './status.js';
import { createScheduler, type RunResult, watchTriggers } from './triggers.js';

/** Tuning of the leader's live connection (see `createLiveConnection`). */
export type LiveTuning = Omit<
  LiveConnectionOptions,
  'cursor' | 'clientId' | 'onPoke' | 'onState' | 'timers' | 'random' | 'network'
>;

export interface SyncAgentOptions {
  /**
   * Where the leader keeps its live connection (`openSocket`, else `wait`); default the
   * store's own remote (`store.sync.remote`).
   */
  readonly remote?: SyncRemote;
  /**
   * The Web Lock's and the tab channel's name (default `'eventkv-sync'`): one per local
   * database, the same in every tab and worker that opens it.
   */
  readonly name?: string;
  /** A run this often while online, in ms (default 60000; 0: none). */
  readonly intervalMs?: number;
  /** Triggers this close together make one run (default 50 ms). */
  readonly debounceMs?: number;
  /** After a failed run, the next one is tried after this backoff (default 2 s doubling to 5 min). */
  readonly retry?: BackoffPolicy;
  /** How long a follower waits for the leader to take its `syncNow()` before it runs it itself (default 2000 ms). */
  readonly leaderTimeoutMs?: number;
  /** Ask for persistent storage at the first local append (default `true`). */
  readonly persist?: boolean;
  /** The Background Sync tag registered when a run fails offline with events pending (default: the agent's `name`; `false`: none). */
  readonly backgroundSyncTag?: string | false;
  /** The live connection's tuning; `false`: no live connection. */
  readonly live?: LiveTuning | false;
  /** The platform's parts (Web Locks, BroadcastChannel, timers...): each defaults to the global one where it exists. */
  readonly environment?: SyncAgentEnvironment;
}

/** What `agent.on` hears: the same in every tab of the store. */
export type SyncAgentEvent<E extends EventShape = EventShape> =
  | { readonly type: 'status'; readonly status: SyncAgentStatus }
  | { readonly type: 'connection'; readonly connection: LiveState }
  | { readonly type: 'synced'; readonly pushed: number; readonly pulled: number }
  | { readonly type: 'conflict'; readonly conflict: Conflict<E> }
  | { readonly type: 'error'; readonly error: unknown };

/** A synced store's sync, run by one tab (the leader) for every tab of the origin. */
export interface SyncAgent<E extends EventShape = EventShape> {
  /** Whether this tab syncs (`leader`) or follows the one that does. */
  readonly role: SyncRole;
  /**
   * One run now (in the leader: a follower asks it and gets its outcome, or runs it here
   * when no leader answers in time).
   */
  syncNow(): Promise<RunResult>;
  status(): Promise<SyncAgentStatus>;
  /** Hears status changes and the leader's sync events; returns its removal. */
  on(listener: (event: SyncAgentEvent<E>) => void): () => void;
  /** Releases everything (the lead, the channel, the socket, listeners, timers); resolves when a run under way is over. */
  stop(): Promise<void>;
}

const count = (name: string, value: unknown, fallback: number): number => {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a number of at least 0`);
  }
  return value;
};

interface Request {
  readonly resolve: (result: RunResult) => void;
  readonly reject: (error: unknown) => void;
  timer: unknown;
}

/**
 * Runs a synced store's sync for every tab (and worker) of the origin: one of them leads
 * (a Web Lock), keeps the live connection to the edge and syncs on its pokes, on
 * `online`, when a page is shown again, after local appends in any tab, when a tab asks
 * and periodically; the others follow over a `BroadcastChannel` and hear the same status
 * and events. When the leader goes, another takes over.
 * @example
 * const store = createSyncedStore<BankEvent>({ kv, remote });
 * const agent = startSync(store);
 * agent.on((event) => event.type === 'status' && render(event.status));
 */
export const startSync = <E extends EventShape = EventShape>(
  store: SyncedStore<E>,
  options: SyncAgentOptions = {},
): SyncAgent<E> => {
  if (typeof store?.sync?.syncNow !== 'function' || typeof store.sync.on !== 'function') {
    throw new TypeError('startSync needs a synced store (createSyncedStore)');
  }
  const platform = platformEnvironment();
  const env = { ...platform, ...options.environment };
  const timers = env.timers ?? systemTimers;
  const random = env.random ?? Math.random;
  const network = env.network ?? globalNetwork();
  const name = options.name ?? 'eventkv-sync';
  const debounceMs = count('options.debounceMs', options.debounceMs, 50);
  const intervalMs = count('options.intervalMs', options.intervalMs, 60_000);
  const leaderTimeoutMs = count('options.leaderTimeoutMs', options.leaderTimeoutMs, 2000);
  const remote = options.remote ?? store.sync.remote;
  const self = defaultIdGenerator();

  let role: SyncRole = 'follower';
  let stopped = false;
  let syncing = false;
  let connection: LiveState = 'off';
  /** What this follower last heard of the leader. */
  let leader: { connection: LiveState; syncing: boolean } = { connection: 'off', syncing: false };
  let live: LiveConnection | undefined;
  const listeners = new Set<(event: SyncAgentEvent<E>) => void>();
  const requests = new Map<string, Request>();
  const persistence = createPersistence(env.storage);
  const background = createBackgroundSync(env.backgroundSync, options.backgroundSyncTag ?? name);

  const emit = (event: SyncAgentEvent<E>) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own.
      }
    }
  };

  const part = () => ({
    role,
    online: network.online(),
    connection: role === 'leader' ? connection : leader.connection,
    syncing: role === 'leader' ? syncing : leader.syncing,
    persisted: persistence.persisted,
  });
  const status = async () => agentStatus(await store.sync.status(), part(), timers.now());

  let channel: TabChannel | undefined;
  let last: SyncAgentStatus | undefined;
  const publish = (next: SyncAgentStatus, force: boolean) => {
    if (stopped) return;
    const changed = !sameStatus(last, next);
    last = next;
    if (role === 'leader' && (changed || force)) {
      channel?.post({ kind: 'status', from: self, status: next });
    }
    if (changed) emit({ type: 'status', status: next });
  };

  // Status reads one at a time, coalesced: they are published in order.
  let refreshing: Promise<void> | undefined;
  let again = false;
  let forced = false;
  const refresh = (force = false): void => {
    forced ||= force;
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = (async () => {
      do {
        again = false;
        const force = forced;
        forced = false;
        try {
          publish(await status(), force);
        } catch {
          // The store cannot be read now: the next change tries again.
        }
      } while (again && !stopped);
    })().finally(() => {
      refreshing = undefined;
    });
  };

  const scheduler = createScheduler({
    timers,
    random,
    network,
    debounceMs,
    intervalMs,
    retry: options.retry ?? {},
    async run() {
      try {
        const result = await store.sync.syncNow();
        background.reset();
        return result;
      } catch (error) {
        if (isNetworkFailure(error, network.online())) {
          const now = await store.sync.status().catch(() => undefined);
          if (now !== undefined && now.pending > 0) await background.register();
        }
        throw error;
      }
    },
    onRunning(running) {
      syncing = running;
      refresh();
    },
  });

  // The long-poll waits from the replica's cursor: the edge answers when there is news.
  const cursor = () => store.sync.cursor();

  // Follower requests: the leader acknowledges, then answers; none in time, run here.
  const fallback = (id: string) => {
    const request = requests.get(id);
    if (request === undefined) return;
    requests.delete(id);
    store.sync.syncNow().then(request.resolve, request.reject);
  };
  const send = (id: string) => {
    const request = requests.get(id);
    if (request === undefined) return;
    if (request.timer !== undefined) timers.clearTimeout(request.timer);
    request.timer = timers.setTimeout(() => fallback(id), leaderTimeoutMs);
    channel?.post({ kind: 'sync', from: self, id });
  };
  const settle = (id: string): Request | undefined => {
    const request = requests.get(id);
    if (request === undefined) return undefined;
    requests.delete(id);
    if (request.timer !== undefined) timers.clearTimeout(request.timer);
    return request;
  };
  const askLeader = () =>
    new Promise<RunResult>((resolve, reject) => {
      const id = defaultIdGenerator();
      requests.set(id, { resolve, reject, timer: undefined });
      send(id);
    });

  const onLiveState = (state: LiveState) => {
    if (stopped || role !== 'leader') return;
    connection = state;
    emit({ type: 'connection', connection: state });
    channel?.post({ kind: 'connection', from: self, connection: state });
    refresh();
  };

  const lead = () => {
    if (stopped) return;
    role = 'leader';
    channel?.post({ kind: 'leader', from: self });
    scheduler.setActive(true);
    if (remote !== undefined && options.live !== false) {
      live = createLiveConnection(remote, {
        ...options.live,
        cursor,
        clientId: async () => (await store.sync.status()).clientId,
        onPoke: () => scheduler.soon().then(noop, noop),
        onState: onLiveState,
        timers,
        random,
        network,
      });
    }
    // What the followers asked of the leader that went is done here.
    for (const id of [...requests.keys()]) {
      const request = settle(id);
      if (request) scheduler.now().then(request.resolve, request.reject);
    }
    // The leader that went may have left work: a run now.
    void scheduler.soon();
    refresh(true);
  };

  const onMessage = (message: TabMessage) => {
    if (stopped) return;
    const leading = role === 'leader';
    switch (message.kind) {
      case 'hello':
        if (leading) refresh(true);
        return;
      case 'leader':
        if (!leading) for (const id of requests.keys()) send(id);
        return;
      case 'status':
        if (leading) return;
        leader = { connection: message.status.connection, syncing: message.status.syncing };
        publish(
          {
            ...message.status,
            role,
            online: network.online(),
            persisted: persistence.persisted ?? message.status.persisted,
          },
          false,
        );
        return;
      case 'connection':
        if (leading) return;
        leader = { ...leader, connection: message.connection };
        emit({ type: 'connection', connection: message.connection });
        return;
      case 'synced':
        if (!leading) emit({ type: 'synced', pushed: message.pushed, pulled: message.pulled });
        return;
      case 'conflict':
        if (!leading) emit({ type: 'conflict', conflict: message.conflict as Conflict<E> });
        return;
      case 'error':
        if (!leading) emit({ type: 'error', error: errorFrom(message.error) });
        return;
      case 'appended':
        if (leading) {
          void scheduler.soon();
          refresh();
        }
        return;
      case 'sync': {
        if (!leading) return;
        const { id, from } = message;
        if (id === undefined) {
          void scheduler.soon();
          return;
        }
        channel?.post({ kind: 'ack', from: self, to: from, id });
        scheduler.now().then(
          (outcome) => channel?.post({ kind: 'result', from: self, to: from, id, outcome }),
          (error: unknown) =>
            channel?.post({
              kind: 'result',
              from: self,
              to: from,
              id,
              outcome: { error: errorShape(error) },
            }),
        );
        return;
      }
      case 'ack': {
        const request = message.to === self ? requests.get(message.id) : undefined;
        if (request?.timer !== undefined) {
          timers.clearTimeout(request.timer);
          request.timer = undefined;
        }
        return;
      }
      case 'result': {
        if (message.to !== self) return;
        const request = settle(message.id);
        const { outcome } = message;
        if ('error' in outcome) request?.reject(errorFrom(outcome.error));
        else request?.resolve(outcome);
        return;
      }
    }
  };

  const offStore = store.sync.on((event) => {
    if (stopped) return;
    if (event.type === 'appended' || event.type === 'resolved') {
      // Unsynced data worth keeping, and the user just acted: the moment to ask.
      if (
        event.type === 'appended' &&
        options.persist !== false &&
        persistence.persisted !== true
      ) {
        void persistence.request().then(() => refresh());
      }
      if (role === 'leader' || channel === undefined) void scheduler.soon();
      else channel.post({ kind: 'appended', from: self });
      refresh();
      return;
    }
    emit(event);
    if (role !== 'leader') return;
    if (event.type === 'synced') {
      channel?.post({ kind: 'synced', from: self, pushed: event.pushed, pulled: event.pulled });
    } else if (event.type === 'conflict') {
      channel?.post({ kind: 'conflict', from: self, conflict: event.conflict as Conflict });
    } else {
      channel?.post({ kind: 'error', from: self, error: errorShape(event.error) });
    }
  });

  const unwatch = watchTriggers(network, env.visibility, {
    online() {
      refresh();
      if (role === 'leader') void scheduler.soon();
    },
    offline: () => refresh(),
    visible() {
      if (role === 'leader' || channel === undefined) void scheduler.soon();
      else channel.post({ kind: 'sync', from: self });
    },
  });

  channel = openTabChannel(env.channel, name, self, onMessage);
  void persistence.check().then(() => refresh());
  const candidacy: Candidacy = electLeader(env.locks, name, lead);
  if (role === 'follower') channel?.post({ kind: 'hello', from: self });
  refresh();

  return {
    get role() {
      return role;
    },
    syncNow() {
      if (stopped || role === 'leader' || channel === undefined) return scheduler.now();
      return askLeader();
    },
    status,
    on(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      candidacy.release();
      live?.close();
      live = undefined;
      offStore();
      unwatch();
      scheduler.stop();
      for (const id of [...requests.keys()]) {
        settle(id)?.reject(new Error('the sync agent was stopped'));
      }
      channel?.close();
      listeners.clear();
      await scheduler.idle();
      await refreshing;
    },
  };
};

const noop = () => {};
