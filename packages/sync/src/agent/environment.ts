import {
  type EventTargetLike,
  globalNetwork,
  type NetworkWatch,
  systemTimers,
  type Timers,
} from '../live.js';

/**
 * What the sync agent takes from its platform, each part injectable (tests) and each
 * default looked up with a guard: a tab, a dedicated worker and a service worker have
 * different parts (no `document` in a worker, no `BroadcastChannel` in old engines), and
 * what is missing is simply not used.
 */

/** The part of the Web Locks API (`navigator.locks`) the leader election uses. */
export interface LockManagerLike {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: (lock: unknown) => Promise<void>,
  ): Promise<unknown>;
}

/** A message of a tab channel, as `BroadcastChannel` delivers it. */
export interface ChannelMessageEvent {
  readonly data: unknown;
}

/** The part of a `BroadcastChannel` the tabs talk over. */
export interface ChannelPort {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: ChannelMessageEvent) => void): void;
  close(): void;
}

/** Whether the page is shown, and where it says when that changes (`document`). */
export interface VisibilityWatch {
  visible(): boolean;
  readonly events: EventTargetLike;
}

/** The part of `navigator.storage` (StorageManager) used. */
export interface StorageLike {
  persisted(): Promise<boolean>;
  persist(): Promise<boolean>;
}

/** Background Sync's `registration.sync`. */
export interface BackgroundSyncLike {
  register(tag: string): Promise<void>;
}

export interface SyncAgentEnvironment {
  /** Web Locks; absent: this agent leads (there is no one to share the work with). */
  readonly locks?: LockManagerLike | undefined;
  /** Opens a tab channel (`name => new BroadcastChannel(name)`); absent: no other tabs are heard. */
  readonly channel?: ((name: string) => ChannelPort) | undefined;
  readonly timers?: Timers | undefined;
  /** A number in [0, 1) that picks each backoff delay. */
  readonly random?: (() => number) | undefined;
  readonly network?: NetworkWatch | undefined;
  /** Absent in workers: the page's visibility does not apply. */
  readonly visibility?: VisibilityWatch | undefined;
  /** Absent: persistent storage is not asked for (`persisted` stays `undefined`). */
  readonly storage?: StorageLike | undefined;
  /** The Background Sync of this context's service worker registration, if it has one. */
  readonly backgroundSync?: (() => Promise<BackgroundSyncLike | undefined>) | undefined;
}

type Host = {
  navigator?: {
    locks?: LockManagerLike;
    storage?: Partial<StorageLike>;
    serviceWorker?: { getRegistration?: () => Promise<unknown> };
  };
  BroadcastChannel?: new (name: string) => ChannelPort;
  document?: EventTargetLike & { visibilityState?: unknown };
  registration?: unknown;
};

const syncOf = (registration: unknown): BackgroundSyncLike | undefined => {
  const sync = (registration as { sync?: Partial<BackgroundSyncLike> } | undefined)?.sync;
  return typeof sync?.register === 'function' ? (sync as BackgroundSyncLike) : undefined;
};

/** The platform's parts, where they exist (a tab, a dedicated or a service worker, Node). */
export const platformEnvironment = (): Required<SyncAgentEnvironment> => {
  const host = globalThis as unknown as Host;
  const navigator = host.navigator;
  const locks = typeof navigator?.locks?.request === 'function' ? navigator.locks : undefined;
  const Channel = host.BroadcastChannel;
  const document = host.document;
  const storage = navigator?.storage;
  const registration = host.registration;
  const serviceWorker = navigator?.serviceWorker;
  return {
    locks: locks === undefined ? undefined : { request: locks.request.bind(locks) },
    channel: typeof Channel === 'function' ? (name) => new Channel(name) : undefined,
    timers: systemTimers,
    random: Math.random,
    network: globalNetwork(),
    visibility:
      document && typeof document.addEventListener === 'function' && 'visibilityState' in document
        ? { visible: () => document.visibilityState === 'visible', events: document }
        : undefined,
    storage:
      typeof storage?.persist === 'function' && typeof storage.persisted === 'function'
        ? { persist: () => storage.persist!(), persisted: () => storage.persisted!() }
        : undefined,
    backgroundSync:
      // In a service worker its own registration; in a page or a worker, the one it has.
      registration !== undefined
        ? async () => syncOf(registration)
        : typeof serviceWorker?.getRegistration === 'function'
          ? async () => syncOf(await serviceWorker.getRegistration!())
          : undefined,
  };
};
