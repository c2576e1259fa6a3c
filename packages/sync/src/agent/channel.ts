import type { Conflict } from '../context.js';
import type { LiveState } from '../live.js';
import type { ChannelPort } from './environment.js';
import type { SyncAgentStatus } from './status.js';

/** An error as it crosses to another tab (structured clone keeps neither class nor code). */
export interface ErrorShape {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

/**
 * What the tabs of one synced store say to each other. The leader posts its status and
 * the sync events; the others (followers) forward their local appends and ask for runs.
 */
export type TabMessage =
  /** A tab took the lead: followers send it their unanswered requests again. */
  | { readonly kind: 'leader'; readonly from: string }
  /** A tab joined: the leader answers with its status. */
  | { readonly kind: 'hello'; readonly from: string }
  | { readonly kind: 'status'; readonly from: string; readonly status: SyncAgentStatus }
  | { readonly kind: 'connection'; readonly from: string; readonly connection: LiveState }
  | {
      readonly kind: 'synced';
      readonly from: string;
      readonly pushed: number;
      readonly pulled: number;
    }
  | { readonly kind: 'conflict'; readonly from: string; readonly conflict: Conflict }
  | { readonly kind: 'error'; readonly from: string; readonly error: ErrorShape }
  /** A follower's local append: the leader syncs soon. */
  | { readonly kind: 'appended'; readonly from: string }
  /** A follower asks for a run (`id` awaits the answer; without one, nobody waits). */
  | { readonly kind: 'sync'; readonly from: string; readonly id?: string }
  /** The leader took the request `id` of tab `to`. */
  | { readonly kind: 'ack'; readonly from: string; readonly to: string; readonly id: string }
  | {
      readonly kind: 'result';
      readonly from: string;
      readonly to: string;
      readonly id: string;
      readonly outcome:
        | { readonly pushed: number; readonly pulled: number }
        | { readonly error: ErrorShape };
    };

const KINDS: ReadonlySet<string> = new Set([
  'leader',
  'hello',
  'status',
  'connection',
  'synced',
  'conflict',
  'error',
  'appended',
  'sync',
  'ack',
  'result',
]);

export const errorShape = (error: unknown): ErrorShape => {
  const { name, message, code } = (error ?? {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
  };
  return {
    name: typeof name === 'string' ? name : 'Error',
    message: typeof message === 'string' ? message : String(error),
    ...(typeof code === 'string' ? { code } : {}),
  };
};

/** An `Error` again, with its name and code. */
export const errorFrom = (shape: ErrorShape): Error =>
  Object.assign(new Error(shape.message), {
    name: shape.name,
    ...(shape.code === undefined ? {} : { code: shape.code }),
  });

/** A tab's end of the channel: its own messages are never delivered back to it. */
export interface TabChannel {
  post(message: TabMessage): void;
  close(): void;
}

/**
 * Opens the channel `name` (`BroadcastChannel` by default); `undefined` without one. A
 * message that is not one of ours is ignored; a failed post (a closed channel, a value
 * that cannot be cloned) is dropped: the tabs fall back on their own.
 */
export const openTabChannel = (
  open: ((name: string) => ChannelPort) | undefined,
  name: string,
  self: string,
  onMessage: (message: TabMessage) => void,
): TabChannel | undefined => {
  if (open === undefined) return undefined;
  let port: ChannelPort;
  try {
    port = open(name);
  } catch {
    return undefined;
  }
  let closed = false;
  port.addEventListener('message', (event) => {
    const message = event.data as TabMessage | null;
    if (closed || typeof message !== 'object' || message === null) return;
    if (!KINDS.has(message.kind) || message.from === self) return;
    onMessage(message);
  });
  return {
    post(message) {
      if (closed) return;
      try {
        port.postMessage(message);
      } catch {
        // Dropped: see above.
      }
    },
    close() {
      if (closed) return;
      closed = true;
      port.close();
    },
  };
};
