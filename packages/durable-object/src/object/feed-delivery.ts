import type { RecordedEvent, StreamId } from '@eventkv/core';

/**
 * A stream object's delivery of its events to the database's feed (under `'stream'`
 * routing every stream lives in its own object, and the database's object keeps a copy of
 * all of them: the global log, the indexes, database-wide reads).
 *
 * The outbox is the stream itself: the events written since the last version the feed
 * acknowledged, a number kept beside them. An append therefore writes nothing more than
 * it did (no outbox record per event), and nothing can be lost between the append and its
 * outbox entry: they are the same record. The feed applies a delivery idempotently by
 * (stream, version): events it holds are skipped, a gap before them is answered with the
 * version it holds, and delivery resumes from there.
 *
 * Delivery starts right after an append (low lag), and the object's alarm, armed when a
 * delivery is first owed, retries it after a crash, an eviction or a feed that is down,
 * with exponential backoff.
 *
 * The acknowledged version is kept in memory and stored by the alarm, not after each
 * delivery: storing it was a write transaction per append, about as much storage work as
 * the append's own. What is stored may lag (by the deliveries since the last alarm);
 * after a restart delivery resumes from it and the feed skips the events it holds, so a
 * lag costs a repeated delivery, never a lost or doubled event.
 */
export interface FeedDeliveryPort {
  /** The stream this object holds. */
  readonly ref: StreamId;
  /** The stream's version now. */
  version(): Promise<number>;
  /** A batch of the stream's events from `from` (at most `max` of them, up to `to`). */
  read(from: number, to: number, max: number): Promise<RecordedEvent[]>;
  /** The acknowledged version as stored (0 before any): where delivery starts after a restart. */
  delivered(): Promise<number>;
  /** Stores the acknowledged version (from the alarm, see above). */
  setDelivered(version: number): Promise<void>;
  /** Sends events to the feed; resolves with the version of the stream the feed holds after. */
  send(events: RecordedEvent[]): Promise<number>;
  /** Arms the object's alarm to fire at `at` (epoch ms). */
  arm(at: number): Promise<void>;
  now(): number;
  /** Reports a failed delivery (it is retried). */
  failed(error: unknown): void;
}

/** Events per delivery. */
export const FEED_BATCH = 100;
/** The alarm armed with the first owed delivery: fires only if delivery has not caught up. */
const SAFETY_NET_MS = 5_000;
const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;

export class FeedDelivery {
  readonly #port: FeedDeliveryPort;
  #running: Promise<boolean> | undefined;
  #again = false;
  #failures = 0;
  /** The alarm is armed (in this object's life) and has not fired since. */
  #armed = false;
  /** The version the feed acknowledged last (undefined until read from storage). */
  #delivered: number | undefined;
  /** The acknowledged version as stored (`setDelivered`). */
  #stored: number | undefined;
  /** The last version an append told of (`appended`): the stream holds at least that. */
  #appended = 0;

  constructor(port: FeedDeliveryPort) {
    this.#port = port;
  }

  /**
   * After an append that brought the stream to `version`: arms the alarm (once, until it
   * fires), so the events reach the feed even if this object stops now, then delivers.
   * Call it before answering the append, so the alarm is stored with it.
   */
  appended(version: number): Promise<boolean> {
    this.#appended = Math.max(this.#appended, version);
    if (!this.#armed) {
      this.#armed = true;
      void this.#port.arm(this.#port.now() + SAFETY_NET_MS);
    }
    return this.run();
  }

  /**
   * Delivers until the feed holds the stream's version; resolves `true` once caught up,
   * `false` when a delivery failed (the alarm retries it). Concurrent calls share one run.
   */
  run(): Promise<boolean> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        // A call made while a round runs asks for one more round, even after a failed
        // one: it may come from an alarm that found the feed back.
        let caughtUp: boolean;
        do {
          this.#again = false;
          caughtUp = await this.#catchUp();
        } while (this.#again);
        return caughtUp;
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  /** The alarm: delivers, and re-arms with backoff while the feed does not take it. */
  async alarm(): Promise<void> {
    this.#armed = false;
    // Its round reads the stream's version, for writes not told of by `appended`.
    this.#appended = 0;
    const caughtUp = await this.run();
    await this.#store();
    if (caughtUp) return;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(this.#failures, 16));
    this.#armed = true;
    await this.#port.arm(this.#port.now() + delay);
  }

  /** Stores the acknowledged version if it moved since it was last stored. */
  async #store(): Promise<void> {
    const delivered = this.#delivered;
    if (delivered === undefined || delivered === this.#stored) return;
    try {
      await this.#port.setDelivered(delivered);
      this.#stored = delivered;
    } catch (error) {
      // Stored by a later alarm; meanwhile a restart delivers again what the feed holds.
      this.#port.failed(error);
    }
  }

  async #catchUp(): Promise<boolean> {
    const port = this.#port;
    try {
      if (this.#delivered === undefined) {
        this.#delivered = await port.delivered();
        this.#stored = this.#delivered;
      }
      let delivered = this.#delivered;
      // Read once, and not at all right after an append (which told its version): an
      // append made meanwhile calls `run` again (`#again`). Writes made otherwise (not
      // through `appended`) go with the next alarm's round, which reads the version.
      const version = this.#appended > delivered ? this.#appended : await port.version();
      while (delivered < version) {
        const events = await port.read(delivered + 1, version, FEED_BATCH);
        if (events.length === 0) return true;
        const held = await port.send(events);
        // The feed holds `held`: the events sent, or fewer when it lacks earlier ones (it
        // lost them, or an earlier delivery was never made), and delivery goes on from
        // what it holds. Holding no more than before means it took nothing: a failure.
        if (held === delivered) {
          throw new Error(
            `the feed took none of versions ${delivered + 1}..${(events.at(-1) as RecordedEvent).version}`,
          );
        }
        this.#failures = 0;
        delivered = held;
        this.#delivered = held;
      }
      return true;
    } catch (error) {
      this.#failures += 1;
      port.failed(error);
      return false;
    }
  }
}
