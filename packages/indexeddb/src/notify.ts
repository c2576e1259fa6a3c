import type { KvChangeListener } from '@eventkv/core';

export interface Notifier {
  watch(listener: KvChangeListener): () => void;
  /** Tells local listeners, then other connections, that `keys` changed. */
  changed(keys: readonly string[]): void;
  close(): void;
}

/**
 * Local listeners plus a `BroadcastChannel` to other tabs and workers of the origin. A
 * channel does not hear its own messages, so every connection gets each change once.
 * Delivery is best effort, which is all core needs: it re-reads from the head.
 */
export const createNotifier = (channelName: string, broadcast: boolean): Notifier => {
  const listeners = new Set<KvChangeListener>();
  let channel: BroadcastChannel | undefined;
  const emit = (keys: readonly string[]) => {
    for (const listener of listeners) {
      try {
        listener(keys);
      } catch {
        // A listener must not throw (see Kv.watch); one that does must not stop the others.
      }
    }
  };
  const connect = () => {
    if (channel || !broadcast) return;
    channel = new BroadcastChannel(channelName);
    channel.onmessage = (event: MessageEvent<{ keys?: unknown }>) => {
      const keys = event.data?.keys;
      if (Array.isArray(keys)) emit(keys);
    };
  };
  return {
    watch(listener) {
      listeners.add(listener);
      connect();
      return () => {
        listeners.delete(listener);
      };
    },
    changed(keys) {
      if (!keys.length) return;
      emit(keys);
      connect();
      channel?.postMessage({ keys });
    },
    close() {
      broadcast = false;
      listeners.clear();
      channel?.close();
      channel = undefined;
    },
  };
};
