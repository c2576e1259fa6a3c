import {
  PUSH_CLOSE_SLOW_CONSUMER,
  PUSH_CLOSE_TOKEN_EXPIRED,
  PUSH_SUBPROTOCOL,
  type RecordedEvent,
} from '@eventkv/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createHttpEventStore,
  type FetchLike,
  type PushSocket,
  type PushSocketEvent,
  toWire,
} from '../src/index';

// The push transport of `subscribe` and `subscribeLog` against scripted sockets: what a
// socket is opened with, acks, resuming after drops and closes, the fallback to the
// long-poll and the way back. The real server is in apps/worker/test/client-live.test.ts.

type Listener = (event: PushSocketEvent) => void;

/** A socket the test plays the server of. */
class FakeSocket implements PushSocket {
  static opened: FakeSocket[] = [];
  /** Whether the next sockets open (false: they close before opening, as a refused upgrade). */
  static accept = true;
  readyState = 0;
  readonly sent: string[] = [];
  readonly #listeners = new Map<string, Listener[]>();

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.opened.push(this);
    const accept = FakeSocket.accept;
    // As a browser's: the outcome is an event of a later task.
    setTimeout(() => {
      if (accept) {
        this.readyState = 1;
        this.emit('open', {});
      } else {
        this.readyState = 3;
        this.emit('close', { code: 1006 });
      }
    });
  }
  addEventListener(type: string, listener: Listener) {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }
  emit(type: string, event: PushSocketEvent) {
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close(code?: number) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closedWith = code;
  }
  closedWith: number | undefined;
  /** The server sends events. */
  push(events: unknown[]) {
    this.emit('message', { data: toWire({ type: 'events', events }) });
  }
  /** The server closes. */
  drop(code: number, reason = '') {
    this.readyState = 3;
    this.emit('close', { code, reason });
  }
  acks(): number[] {
    return this.sent.map((s) => (JSON.parse(s) as { to: number }).to);
  }
}

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
const TOKEN = `${b64url({ alg: 'HS256' })}.${b64url({ db: 'acme' })}.sig`;

const event = (version: number, position = version) =>
  ({
    type: 'Deposited',
    data: { amount: version },
    version,
    position,
    metadata: {
      messageId: `m${version}`,
      schemaVersion: 1,
      timestamp: 0,
      aggregateType: 'Account',
      aggregateId: '42',
      database: 'acme',
    },
  }) as RecordedEvent;

const ok = (value: unknown) =>
  new Response(toWire(value), { headers: { 'Content-Type': 'application/json' } });

/** Answers the long-poll and reads of one stream holding `events` (and its version). */
const streamServer = (events: RecordedEvent[], requests: URL[] = []): FetchLike => {
  return async (request) => {
    const url = new URL(request.url);
    requests.push(url);
    if (url.pathname.endsWith('/version')) return ok({ version: events.length });
    const from = Number(url.searchParams.get('from') ?? 1);
    const limit = Number(url.searchParams.get('limit') ?? 1000);
    const found = events.filter((e) => e.version >= from).slice(0, limit);
    // A long-poll with nothing to answer waits (briefly here), as the Worker's does.
    if (found.length === 0 && url.searchParams.has('wait')) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return ok({ events: found });
  };
};

const store = (fetch: FetchLike, live = {}) =>
  createHttpEventStore('https://api.example', {
    token: TOKEN,
    fetch,
    WebSocket: FakeSocket,
    live: { random: () => 0, ...live },
    retry: false,
  });

const ref = { type: 'Account', id: '42' };
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await tick();
  expect(check()).toBe(true);
};

afterEach(() => {
  FakeSocket.opened = [];
  FakeSocket.accept = true;
  vi.useRealTimers();
});

describe('subscribe over a push socket', () => {
  it('opens the stream socket from the version asked for, offering the token as a subprotocol, and acks each batch', async () => {
    const got: number[][] = [];
    const stop = store(streamServer([]))
      .stream(ref)
      .subscribe((events) => got.push(events.map((e) => e.version)), { from: 3 });
    await until(() => FakeSocket.opened.length === 1);
    const socket = FakeSocket.opened[0] as FakeSocket;
    expect(socket.url).toBe('wss://api.example/v1/acme/streams/Account/42/live?from=3');
    expect(socket.protocols).toEqual([PUSH_SUBPROTOCOL, `bearer.${TOKEN}`]);
    await tick();
    socket.push([event(3), event(4)]);
    socket.push([event(5)]);
    expect(got).toEqual([[3, 4], [5]]);
    expect(socket.acks()).toEqual([4, 5]);
    stop();
    expect(socket.closedWith).toBe(1000);
  });

  it('starts at the head when no version is given, and resumes after a drop from the last version delivered, without a repeat', async () => {
    const got: number[] = [];
    const stop = store(streamServer([event(1), event(2)]))
      .stream(ref)
      .subscribe((events) => got.push(...events.map((e) => e.version)));
    await until(() => FakeSocket.opened.length === 1);
    expect(FakeSocket.opened[0]?.url).toMatch(/\?from=3$/);
    await tick();
    FakeSocket.opened[0]?.push([event(3), event(4)]);
    FakeSocket.opened[0]?.drop(1006);
    await until(() => FakeSocket.opened.length === 2);
    const second = FakeSocket.opened[1] as FakeSocket;
    expect(second.url).toMatch(/\?from=5$/);
    await tick();
    // A server that sends from an earlier point: what was delivered is not delivered again.
    second.push([event(4), event(5)]);
    expect(got).toEqual([3, 4, 5]);
    stop();
  });

  it('reconnects at once after an expired token or a slow-consumer close, from where it was', async () => {
    const got: number[] = [];
    const stop = store(streamServer([]))
      .stream(ref)
      .subscribe((events) => got.push(...events.map((e) => e.version)), { from: 1 });
    await until(() => FakeSocket.opened.length === 1);
    await tick();
    FakeSocket.opened[0]?.push([event(1)]);
    FakeSocket.opened[0]?.drop(PUSH_CLOSE_SLOW_CONSUMER, '{"acked":0}');
    await until(() => FakeSocket.opened.length === 2);
    expect(FakeSocket.opened[1]?.url).toMatch(/\?from=2$/);
    await tick();
    FakeSocket.opened[1]?.push([event(2)]);
    FakeSocket.opened[1]?.drop(PUSH_CLOSE_TOKEN_EXPIRED, 'token expired');
    await until(() => FakeSocket.opened.length === 3);
    expect(FakeSocket.opened[2]?.url).toMatch(/\?from=3$/);
    expect(got).toEqual([1, 2]);
    stop();
  });

  it('delivers a batch again, from a new socket, when the listener threw on it', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const got: number[] = [];
    const stop = store(streamServer([]))
      .stream(ref)
      .subscribe(
        (events) => {
          if (fail) {
            fail = false;
            throw new Error('not now');
          }
          got.push(...events.map((e) => e.version));
        },
        { from: 1, pollIntervalMs: 1, onError: (error) => errors.push(error) },
      );
    await until(() => FakeSocket.opened.length === 1);
    await tick();
    FakeSocket.opened[0]?.push([event(1)]);
    expect(FakeSocket.opened[0]?.acks()).toEqual([]);
    await until(() => FakeSocket.opened.length === 2);
    expect(FakeSocket.opened[1]?.url).toMatch(/\?from=1$/);
    await tick();
    FakeSocket.opened[1]?.push([event(1)]);
    expect(got).toEqual([1]);
    expect((errors[0] as Error).message).toBe('not now');
    stop();
  });

  it('refuses a batch with a gap, a repeat or a step back inside it: nothing of it is delivered, and a new socket resumes from the cursor', async () => {
    const errors: unknown[] = [];
    const got: number[] = [];
    const stop = store(streamServer([]))
      .stream(ref)
      .subscribe((events) => got.push(...events.map((e) => e.version)), {
        from: 1,
        pollIntervalMs: 1,
        onError: (error) => errors.push(error),
      });
    await until(() => FakeSocket.opened.length === 1);
    await tick();
    FakeSocket.opened[0]?.push([event(1)]);
    const bad = [
      [event(2), event(4)],
      [event(2), event(2)],
      [event(3), event(2)],
    ];
    for (const [i, batch] of bad.entries()) {
      FakeSocket.opened[i]?.push(batch);
      await until(() => FakeSocket.opened.length === i + 2);
      expect(FakeSocket.opened[i + 1]?.url).toMatch(/\?from=2$/);
      await tick();
    }
    // Only the first batch was acknowledged; the refused ones were not delivered.
    expect(FakeSocket.opened[0]?.acks()).toEqual([1]);
    expect(got).toEqual([1]);
    expect(errors.map((e) => (e as Error).message)).toEqual([
      'push: version 4 arrived after 2',
      'push: version 2 arrived after 2',
      'push: version 3 arrived after 1',
    ]);
    FakeSocket.opened[3]?.push([event(2), event(3)]);
    expect(got).toEqual([1, 2, 3]);
    stop();
  });

  it('long-polls when no socket opens, from the cursor, and tries the socket again later', async () => {
    FakeSocket.accept = false;
    const events = [event(1), event(2)];
    const requests: URL[] = [];
    const got: number[] = [];
    const stop = store(streamServer(events, requests), {
      socketFailuresBeforePolling: 2,
      socketRetryMs: 50,
    })
      .stream(ref)
      .subscribe((batch) => got.push(...batch.map((e) => e.version)), { from: 1 });
    await until(() => got.length === 2);
    expect(FakeSocket.opened).toHaveLength(2);
    expect(requests.some((url) => url.pathname.endsWith('/events'))).toBe(true);
    // The socket's next chance opens from the version the long-poll reached.
    FakeSocket.accept = true;
    await until(() => FakeSocket.opened.length === 3);
    expect(FakeSocket.opened[2]?.url).toMatch(/\?from=3$/);
    await tick();
    FakeSocket.opened[2]?.push([event(3)]);
    expect(got).toEqual([1, 2, 3]);
    stop();
  });

  it('opens no socket with a fetch of its own and no WebSocket, or with WebSocket: false', async () => {
    const plain = createHttpEventStore('https://api.example', {
      token: TOKEN,
      fetch: streamServer([event(1)]),
    });
    const off = createHttpEventStore('https://api.example', {
      token: TOKEN,
      fetch: streamServer([event(1)]),
      WebSocket: false,
    });
    for (const s of [plain, off]) {
      const got: number[] = [];
      const stop = s.stream(ref).subscribe((e) => got.push(...e.map((x) => x.version)), {
        from: 1,
      });
      await until(() => got.length === 1);
      stop();
    }
    expect(FakeSocket.opened).toHaveLength(0);
  });

  it('refuses bad options and settings as a local store does', () => {
    const s = store(streamServer([]));
    expect(() => s.stream(ref).subscribe(() => {}, { from: 0 })).toThrow(/options.from/);
    expect(() => s.stream(ref).subscribe(undefined as never)).toThrow(/listener/);
    expect(() => store(streamServer([]), { buffer: 0 })).toThrow(/options.live.buffer/);
    expect(FakeSocket.opened).toHaveLength(0);
  });
});

describe('subscribeLog over a push socket', () => {
  it("opens the database's log socket after the position asked for, and resumes after a drop", async () => {
    const got: number[] = [];
    const s = store(streamServer([]), { buffer: 50 });
    const stop = s.subscribeLog((events) => got.push(...events.map((e) => e.position as number)), {
      after: 7,
    });
    await until(() => FakeSocket.opened.length === 1);
    expect(FakeSocket.opened[0]?.url).toBe('wss://api.example/v1/acme/log/live?after=7&buffer=50');
    await tick();
    FakeSocket.opened[0]?.push([event(1, 8), event(1, 10)]);
    FakeSocket.opened[0]?.drop(1011);
    await until(() => FakeSocket.opened.length === 2);
    expect(FakeSocket.opened[1]?.url).toMatch(/\?after=10&/);
    expect(got).toEqual([8, 10]);
    stop();
  });

  it('refuses a log batch whose positions go back: nothing of it is delivered', async () => {
    const errors: unknown[] = [];
    const got: number[] = [];
    const s = store(streamServer([]));
    const stop = s.subscribeLog((events) => got.push(...events.map((e) => e.position as number)), {
      after: 7,
      pollIntervalMs: 1,
      onError: (error) => errors.push(error),
    });
    await until(() => FakeSocket.opened.length === 1);
    await tick();
    FakeSocket.opened[0]?.push([event(1, 9), event(2, 8)]);
    await until(() => FakeSocket.opened.length === 2);
    expect(FakeSocket.opened[1]?.url).toMatch(/\?after=7$/);
    expect(got).toEqual([]);
    expect((errors[0] as Error).message).toBe('push: position 8 arrived after 9');
    stop();
  });
});
