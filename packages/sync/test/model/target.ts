import type { Kv } from '@eventkv/core';
import type { SyncPrincipal, SyncRemote } from '../../src/index.js';

/**
 * What the model-based sync suite runs against: an edge reached through remotes, and the
 * local storage of the replicas. The in-process edge with replicas on fake-indexeddb is
 * one target; the edge in workerd, reached over HTTP, is another.
 */
export interface SyncModelTarget {
  /** Names the suite (`describe`). */
  readonly name: string;
  /**
   * A remote to the edge for a principal. Every run uses a database of its own
   * (`principal.database` is new each run), so one edge may serve every run.
   */
  createEdgeRemote(principal: SyncPrincipal): SyncRemote;
  /** A replica's local storage by name; opened again by the same name after a crash. */
  openKv(name: string): Kv;
  /** Removes a replica's storage once a run is over (its connections are closed first). */
  removeKv?(name: string): Promise<void>;
  /** Runs of the property (default 100). */
  readonly numRuns?: number;
  /** Most steps of one run before the network heals (default 80). */
  readonly maxSteps?: number;
  /** A fixed seed (and path) to replay a failure: the values fast-check printed. */
  readonly seed?: number;
  readonly path?: string;
  /** Shrink a failure to a smaller schedule (default true; slow at scale). */
  readonly shrink?: boolean;
  /** Test timeout in ms (default 180 s). */
  readonly timeoutMs?: number;
}
