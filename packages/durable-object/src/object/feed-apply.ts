import type { Delivery, DeliveryOutcome } from '@eventkv/core/replica';

/**
 * The feed's side of delivery: the deliveries that reach the database's object in the
 * same turn, or while it is applying earlier ones, are applied together by one
 * `replicateMany` (one `transactionSync`: each stream's head and the log head read once,
 * the log head written once), and each caller gets its own delivery's outcome.
 *
 * Under `'stream'` routing appends spread over streams, and each stream object delivers
 * its append on its own: one event per delivery. Applied one at a time, a delivery cost
 * the feed a transaction and its reads and writes of the log head for one event, as much
 * workerd CPU as the whole floor's append (`bench/README.md`, HTTP); batched, those are
 * shared by every delivery in the batch.
 *
 * What a delivery means does not change: it is applied idempotently by (stream, version)
 * (events held already are skipped, a gap is answered with the version held), each
 * stream's deliveries in the order they came, and a caller is answered only after the
 * commit that holds its events.
 */
export interface FeedApplyPort {
  /** Applies deliveries (`Replica.replicateMany`). */
  replicateMany(deliveries: readonly Delivery[]): Promise<DeliveryOutcome[]>;
  /** After each batch that wrote something: wakes read-your-writes waits, long-polls, pushes. */
  applied(): void;
  /** Runs `apply` once the deliveries of this turn have come in. */
  later(apply: () => void): void;
}

interface Pending {
  readonly delivery: Delivery;
  readonly resolve: (outcome: DeliveryOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/** Deliveries per batch: one commit's keys stay well within what one transaction holds. */
export const FEED_APPLY_BATCH = 100;

export class FeedApply {
  readonly #port: FeedApplyPort;
  #queue: Pending[] = [];
  /** A batch is due (`later`) or being applied: new deliveries join the next one. */
  #due = false;
  #draining: Promise<void> | undefined;

  constructor(port: FeedApplyPort) {
    this.#port = port;
  }

  /** Applies one delivery with the others of its batch; resolves with its own outcome. */
  deliver(delivery: Delivery): Promise<DeliveryOutcome> {
    return new Promise<DeliveryOutcome>((resolve, reject) => {
      this.#queue.push({ delivery, resolve, reject });
      if (this.#due || this.#draining) return;
      this.#due = true;
      this.#port.later(() => void this.flush());
    });
  }

  /**
   * Applies what has come in, now: a read of the feed calls it first, so a delivery the
   * feed received before the read is in what the read sees (as when each was applied on
   * arrival).
   */
  flush(): Promise<void> {
    this.#due = false;
    if (this.#draining) return this.#draining;
    if (this.#queue.length === 0) return Promise.resolve();
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, FEED_APPLY_BATCH);
      let outcomes: DeliveryOutcome[];
      try {
        outcomes = await this.#port.replicateMany(batch.map((pending) => pending.delivery));
      } catch (error) {
        for (const pending of batch) pending.reject(error);
        continue;
      }
      if (outcomes.some((outcome) => 'version' in outcome)) this.#port.applied();
      batch.forEach((pending, i) => {
        pending.resolve(outcomes[i] as DeliveryOutcome);
      });
    }
  }
}
