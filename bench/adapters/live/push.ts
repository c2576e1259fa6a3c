/**
 * The live bench's push subjects: how long after an append its events reach a connected
 * subscriber's push socket (`GET /v1/{db}/streams/{type}/{id}/live` and `GET
 * /v1/{db}/log/live`, the protocol: packages/core/src/push-protocol.ts), each batch
 * acknowledged as a client does. Under 'database' routing the database's object pushes
 * both; under 'stream' routing the stream's object pushes the stream, and the feed pushes
 * the log once the stream object has delivered the event to it (the feed's lag included).
 */
import WebSocket from 'ws';
import { mintLocalToken } from '../../../apps/worker/scripts/local-dev.mjs';
import { makeDeposits } from '../../src/subject.js';

/** One timed sample, in ms from just before the append was sent (as main.ts's `Sample`). */
interface Sample {
  readonly first: number;
  readonly last: number;
  readonly answered?: number;
}

/** A subject of the live bench (as main.ts's `Subject`). */
export interface PushSubject {
  readonly name: string;
  readonly sockets: number;
  open(rep: number): Promise<void>;
  sample(): Promise<Sample>;
  close(): void;
}

/** Push sockets that acknowledge every batch and time the arrival of a given point. */
class Subscribers {
  readonly #sockets: WebSocket[];
  /** The last point each socket received, and when. */
  readonly #points: number[];
  readonly #at: number[];
  #waiter: { point: number; resolve: () => void } | undefined;
  #error: Error | undefined;

  constructor(sockets: WebSocket[], key: 'version' | 'position') {
    this.#sockets = sockets;
    this.#points = sockets.map(() => 0);
    this.#at = sockets.map(() => 0);
    sockets.forEach((socket, i) => {
      socket.on('error', (error) => {
        this.#error ??= error;
      });
      socket.on('close', (code) => {
        if (code !== 1000 && code !== 1005) this.#error ??= new Error(`socket ${i} closed ${code}`);
      });
      socket.on('message', (data) => {
        const now = performance.now();
        const { events } = JSON.parse(String(data)) as { events: Record<string, number>[] };
        const points = events.map((e) => e[key] as number);
        // Each point once and in order: a skip or a repeat fails the bench.
        if (points[0] !== this.#points[i]! + 1 && key === 'version') {
          this.#error ??= new Error(`socket ${i}: ${points[0]} after ${this.#points[i]}`);
        }
        this.#points[i] = points.at(-1) as number;
        this.#at[i] = now;
        socket.send(JSON.stringify({ type: 'ack', to: this.#points[i] }));
        const waiter = this.#waiter;
        if (waiter && this.#points.every((p) => p >= waiter.point)) {
          this.#waiter = undefined;
          waiter.resolve();
        }
      });
    });
  }

  static async open(count: number, url: URL, protocols: string[], key: 'version' | 'position') {
    const sockets = Array.from(
      { length: count },
      () => new WebSocket(url, protocols, { perMessageDeflate: false }),
    );
    const group = new Subscribers(sockets, key);
    await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<void>((resolve, reject) => {
            socket.once('open', () => resolve());
            socket.once('error', reject);
            socket.once('unexpected-response', (_, res) =>
              reject(new Error(`${url.pathname}: ${res.statusCode}`)),
            );
          }),
      ),
    );
    return group;
  }

  /** Resolves when every socket has received `point`. */
  reach(point: number): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#points.every((p) => p >= point)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiter = { point, resolve };
    });
  }

  arrivals(): { first: number; last: number } {
    return { first: Math.min(...this.#at), last: Math.max(...this.#at) };
  }

  close(): void {
    for (const socket of this.#sockets) socket.close(1000, 'done');
  }
}

/**
 * `count` subscribers of one stream (`kind: 'stream'`) or of the database's log (`'log'`),
 * and a writer appending one event per sample to that stream over HTTP.
 */
export const pushSubject = (options: {
  readonly base: URL;
  readonly routing: 'stream' | 'database';
  readonly kind: 'stream' | 'log';
  readonly count: number;
  readonly secret: string;
  readonly started: Date;
}): PushSubject => {
  const { base, routing, kind, count } = options;
  let group: Subscribers | undefined;
  let version = 0;
  let point = 0;
  let events: URL;
  let authorization = '';
  return {
    name: `push ${kind}, ${routing} routing, ${count} socket${count === 1 ? '' : 's'}`,
    sockets: count,
    async open(rep) {
      const db = `push-${kind}-${routing}-${count}-r${rep}-${options.started.getTime()}`;
      const token = await mintLocalToken(db, { secret: options.secret, subject: 'bench' });
      authorization = `Bearer ${token}`;
      events = new URL(`/v1/${db}/streams/Account/writer/events`, base);
      const live = new URL(
        kind === 'stream'
          ? `/v1/${db}/streams/Account/writer/live?from=1`
          : `/v1/${db}/log/live?after=0`,
        base,
      );
      live.protocol = 'ws:';
      group = await Subscribers.open(
        count,
        live,
        ['eventkv-push.1', `bearer.${token}`],
        kind === 'stream' ? 'version' : 'position',
      );
      version = 0;
      point = 0;
    },
    async sample() {
      const g = group as Subscribers;
      const pushed = g.reach(point + 1);
      const t0 = performance.now();
      const response = await fetch(events, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({
          events: makeDeposits(1),
          expectedVersion: version === 0 ? 'no-stream' : version,
        }),
      });
      const body = (await response.json()) as { version?: number };
      const answered = performance.now() - t0;
      if (response.status !== 201 || body.version !== version + 1) {
        throw new Error(`append: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
      }
      version++;
      point++;
      await pushed;
      const { first, last } = g.arrivals();
      return { first: first - t0, last: last - t0, answered };
    },
    close: () => group?.close(),
  };
};
