import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import {
  type InvalidArgumentError,
  isInvalidArgumentError,
  type RecordedEvent,
  type StreamId,
} from '@eventkv/core';
import {
  type PullResponse,
  type PushRequest,
  type PushResponse,
  SYNC_PROTOCOL,
} from '@eventkv/sync/edge';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  databaseObjectName,
  EventStoreObject,
  eventStoreObjectRpc,
  MAX_LIVE_SOCKETS,
  type Routing,
  streamObjectName,
  syncObject,
  unwrapResult,
} from '../src/index.js';
import { deposit, failure } from './helpers.js';
import type { FlakyFeedObject } from './worker.js';

const push = (seq: number, messageId: string, clientId = 'client-1'): PushRequest => ({
  protocol: SYNC_PROTOCOL,
  clientId,
  epoch: 1,
  seq,
  entries: [
    {
      stream: { type: 'BankAccount', id: '42' },
      expectedVersion: seq - 1,
      events: [{ type: 'Deposited', data: { amount: seq }, metadata: { messageId } }],
    },
  ],
});

type Pulled = Extract<PullResponse, { events: unknown }>;
type Applied = Extract<PushResponse, { outcome: 'applied' }>;

describe.each<Routing>(['database', 'stream'])(
  'EventStoreObject: the sync edge (%s routing)',
  (routing) => {
    it("is served by the database's object, over the streams the store serves", async () => {
      const database = `tenant-${crypto.randomUUID()}`;
      const principal = { database, user: 'ann' };
      const edge = syncObject(env.STORE, database, { routing });

      const first = await edge.push(principal, push(1, 'm-1'));
      expect(first).toMatchObject({ outcome: 'applied', replayed: false, seq: 1 });
      // The same seq again: answered from the client's record, nothing appended twice.
      const again = await edge.push(principal, push(1, 'm-1'));
      expect(again).toMatchObject({ outcome: 'applied', replayed: true });
      expect(again.outcome === 'applied' && again.results).toEqual(
        first.outcome === 'applied' && first.results,
      );

      const store = createDurableObjectEventStore(env.STORE, { routing, database });
      const events = await store.stream({ type: 'BankAccount', id: '42' }).read();
      expect(events.map((e) => [e.version, e.metadata.messageId])).toEqual([[1, 'm-1']]);

      // Answered only once the log holds it: the next pull has it.
      const pulled = await edge.pull(principal, { protocol: SYNC_PROTOCOL });
      expect(pulled).toMatchObject({ more: false, cursor: { position: 1 } });
      expect('events' in pulled && pulled.events.map((e) => e.metadata.messageId)).toEqual(['m-1']);
      // And the store's database-wide reads show it, with the same position.
      expect((await store.readLog()).events.map((e) => [e.position, e.metadata.messageId])).toEqual(
        [[1, 'm-1']],
      );
    });

    it("refuses a principal of another database, and a stream's object", async () => {
      const database = `tenant-${crypto.randomUUID()}`;
      const edge = syncObject(env.STORE, database, { routing });
      const other = (await failure(
        edge.pull({ database: `${database}-other`, user: 'ann' }, { protocol: SYNC_PROTOCOL }),
      )) as InvalidArgumentError;
      expect(isInvalidArgumentError(other)).toBe(true);
      expect(other.field).toBe('routing');

      const name = streamObjectName({ database, type: 'BankAccount', id: '42' });
      const rpc = eventStoreObjectRpc(env.STORE.get(env.STORE.idFromName(name)));
      const result = await rpc.syncPull({
        principal: { database, user: 'ann' },
        request: { protocol: SYNC_PROTOCOL },
        routing,
      });
      const error = (await failure(() => unwrapResult(result))) as InvalidArgumentError;
      expect(error.field).toBe('routing');
      expect(error.message).toContain(`is served by the database's object '${database}'`);
    });

    it('checks the principal and the message', async () => {
      const database = `tenant-${crypto.randomUUID()}`;
      const edge = syncObject(env.STORE, database, { routing });
      const noUser = (await failure(
        edge.pull({ database, user: '' }, { protocol: SYNC_PROTOCOL }),
      )) as InvalidArgumentError;
      expect(noUser.field).toBe('principal.user');
      const badProtocol = (await failure(
        edge.pull({ database, user: 'ann' }, { protocol: 2 }),
      )) as InvalidArgumentError;
      expect(badProtocol.field).toBe('protocol');
    });
  },
);

describe('EventStoreObject: the sync edge, routing checked', () => {
  it('refuses a routing it does not know, on either side', async () => {
    const database = `tenant-${crypto.randomUUID()}`;
    const wrong = { routing: 'tenant' as Routing };
    const local = (await failure(() =>
      syncObject(env.STORE, database, wrong),
    )) as InvalidArgumentError;
    expect(local.field).toBe('options.routing');
    const rpc = eventStoreObjectRpc(
      env.STORE.get(env.STORE.idFromName(databaseObjectName(database))),
    );
    const result = await rpc.syncPull({
      principal: { database, user: 'ann' },
      request: { protocol: SYNC_PROTOCOL },
      ...wrong,
    });
    const remote = (await failure(() => unwrapResult(result))) as InvalidArgumentError;
    expect(remote.field).toBe('routing');
  });

  it("refuses 'stream' routing in a class that names no feed namespace (feedNamespace())", async () => {
    const database = `tenant-${crypto.randomUUID()}`;
    const stub = env.STORE.get(env.STORE.idFromName(databaseObjectName(database)));
    // The package's class as it is, without the override a Worker's subclass makes, over the
    // state of a database's object.
    const answers = await runInDurableObject(stub, async (_instance, state) => {
      const plain = new EventStoreObject(state, env);
      const principal = { database, user: 'ann' };
      return {
        stream: await plain.syncPull({
          principal,
          request: { protocol: SYNC_PROTOCOL },
          routing: 'stream',
        }),
        database: await plain.syncPull({
          principal,
          request: { protocol: SYNC_PROTOCOL },
          routing: 'database',
        }),
      };
    });
    const refused = (await failure(() => unwrapResult(answers.stream))) as InvalidArgumentError;
    expect(isInvalidArgumentError(refused)).toBe(true);
    expect(refused.field).toBe('routing');
    expect(refused.message).toMatch(/feedNamespace\(\)/);
    // The same class serves 'database' routing: the edge is its own store.
    expect((unwrapResult(answers.database) as { events?: unknown[] }).events).toEqual([]);
  });
});

describe('EventStoreObject: the live sync sockets of a database', () => {
  it('are at most maxLiveSockets(): the next is refused with 503, one closed makes room, and push sockets do not count', async () => {
    const database = `tenant-${crypto.randomUUID()}`;
    const edge = syncObject(env.FLAKY, database);
    const stub = env.FLAKY.get(env.FLAKY.idFromName(databaseObjectName(database)));
    await runInDurableObject(stub, (instance: FlakyFeedObject) => {
      // Unless a subclass says otherwise, the bound is MAX_LIVE_SOCKETS.
      const bound = () => (instance as unknown as { maxLiveSockets(): number }).maxLiveSockets();
      expect(bound()).toBe(MAX_LIVE_SOCKETS);
      instance.liveSockets = 2;
      expect(bound()).toBe(2);
    });
    const open = () =>
      edge.live(
        { database, user: 'ann', expiresAt: Date.now() + 3_600_000 },
        new Request('https://eventkv.test/v1/sync/live', { headers: { Upgrade: 'websocket' } }),
      );
    const sockets: WebSocket[] = [];
    for (let i = 0; i < 2; i++) {
      const answer = await open();
      expect(answer.status).toBe(101);
      (answer.webSocket as WebSocket).accept();
      sockets.push(answer.webSocket as WebSocket);
    }
    const refused = await open();
    expect(refused.status).toBe(503);
    expect(await refused.text()).toMatch(/live sync sockets/);
    // A push socket on the same object is held against its own bound, not this one.
    const push = await stub.fetch(
      new Request('https://eventkv.test/live', {
        headers: {
          Upgrade: 'websocket',
          'X-EventKV-Push': JSON.stringify({
            kind: 'log',
            database,
            after: 0,
            expiresAt: Date.now() + 3_600_000,
          }),
        },
      }),
    );
    expect(push.status).toBe(101);
    (push.webSocket as WebSocket).accept();
    expect((await open()).status).toBe(503);
    await runInDurableObject(stub, (_instance, state) => {
      const live = state.getWebSockets().filter((socket) => state.getTags(socket).length === 0);
      (live[0] as WebSocket).close(1000, 'done');
    });
    const again = await open();
    expect(again.status).toBe(101);
    (again.webSocket as WebSocket).accept();
    for (const socket of [...sockets, again.webSocket as WebSocket, push.webSocket as WebSocket])
      socket.close(1000, 'done');
  });
});

// Under 'stream' routing a push appends in the stream objects, and the log pulls read is
// the database's feed, which the stream objects deliver to. FLAKY's feed can be taken
// down: its deliveries then fail until it is up again and their alarm runs.
describe("EventStoreObject: the sync edge over a feed whose deliveries fail ('stream' routing)", () => {
  const stub = (name: string) => env.FLAKY.get(env.FLAKY.idFromName(name));
  const setDown = (database: string, down: boolean) =>
    runInDurableObject(stub(databaseObjectName(database)), (feed: FlakyFeedObject) => {
      feed.down = down;
    });
  const fireAlarm = (ref: StreamId) =>
    runInDurableObject(stub(streamObjectName(ref)), (object: FlakyFeedObject) => object.alarm());

  /** Every event a pull from the start shows: each once, each stream without a gap. */
  const pullAll = async (database: string): Promise<readonly RecordedEvent[]> => {
    const edge = syncObject(env.FLAKY, database);
    const pulled = (await edge.pull(
      { database, user: 'auditor' },
      { protocol: SYNC_PROTOCOL, limit: 1000 },
    )) as Pulled;
    const events = pulled.events;
    expect(events.map((e) => e.position)).toEqual(events.map((_, i) => i + 1));
    const last = new Map<string, number>();
    for (const e of events) {
      const key = e.metadata.aggregateId;
      expect(e.version, `${key} without a gap`).toBe((last.get(key) ?? 0) + 1);
      last.set(key, e.version);
    }
    return events;
  };
  const ids = (events: readonly RecordedEvent[]) =>
    events.map((e) => `${e.metadata.aggregateId}@${e.version}:${e.metadata.messageId}`);

  it("another writer's appends the feed has not taken: pulls skip them whole, a push on that stream is a conflict carrying them, and the alarm's late delivery adds nothing", async () => {
    const database = `tenant-${crypto.randomUUID()}`;
    const principal = { database, user: 'ann' };
    const edge = syncObject(env.FLAKY, database);
    const store = createDurableObjectEventStore(env.FLAKY, { database });
    const held: StreamId = { database, type: 'BankAccount', id: 'held' };
    await setDown(database, true);
    // Appended through the ordinary API: the stream object has them, the feed refuses them.
    await store.stream(held).append([deposit(1, 'o-1'), deposit(2, 'o-2')]);
    await fireAlarm(held); // fails again, and re-arms
    expect(await pullAll(database)).toEqual([]);

    const request: PushRequest = {
      protocol: SYNC_PROTOCOL,
      clientId: 'client-1',
      epoch: 1,
      seq: 1,
      entries: [
        {
          stream: { type: 'BankAccount', id: 'held' },
          expectedVersion: 0,
          events: [{ ...deposit(5), metadata: { messageId: 'm-1' } }],
        },
        {
          stream: { type: 'BankAccount', id: 'free' },
          expectedVersion: 0,
          events: [{ ...deposit(7), metadata: { messageId: 'm-2' } }],
        },
      ],
    };
    const answer = (await edge.push(principal, request)) as Applied;
    // Conflicts are still decided per stream, by the stream's own object.
    expect(answer.results.map((r) => r.status)).toEqual(['conflict', 'accepted']);
    expect(answer.results[0]).toMatchObject({ expected: 0, actual: 2, more: false });
    const theirs = (answer.results[0] as { events: readonly RecordedEvent[] }).events;
    expect(theirs.map((e) => e.metadata.messageId)).toEqual(['o-1', 'o-2']);

    // The push answered once the feed held what it answered, the conflict's events too.
    const after = await pullAll(database);
    expect(ids(after).sort()).toEqual(['free@1:m-2', 'held@1:o-1', 'held@2:o-2']);

    // The retried push: answered from the record, nothing appended anywhere.
    expect(await edge.push(principal, request)).toEqual({ ...answer, replayed: true });
    // The same events under a new epoch (a restored replica): duplicates, nothing twice.
    const again = (await edge.push(principal, {
      ...request,
      epoch: 2,
      entries: [request.entries[1] as PushRequest['entries'][number]],
    })) as Applied;
    expect(again.results.map((r) => r.status)).toEqual(['duplicate']);
    expect(await store.stream({ database, type: 'BankAccount', id: 'free' }).version()).toBe(1);

    // The feed back: the stream objects' late deliveries find those versions held.
    await setDown(database, false);
    await fireAlarm(held);
    await fireAlarm({ database, type: 'BankAccount', id: 'free' });
    expect(await pullAll(database)).toEqual(after);
  });

  it('a pull between a delivery and a push never shows a gap: a stream the feed holds in part is filled in before the push is answered', async () => {
    const database = `tenant-${crypto.randomUUID()}`;
    const principal = { database, user: 'ann' };
    const edge = syncObject(env.FLAKY, database);
    const store = createDurableObjectEventStore(env.FLAKY, { database });
    const ref: StreamId = { database, type: 'BankAccount', id: 'part' };
    await store.stream(ref).append(deposit(1, 'o-1')); // delivered at once
    expect(ids(await pullAll(database))).toEqual(['part@1:o-1']);
    await setDown(database, true);
    await store.stream(ref).append([deposit(2, 'o-2'), deposit(3, 'o-3')]);
    expect(ids(await pullAll(database))).toEqual(['part@1:o-1']);

    const answer = (await edge.push(principal, {
      protocol: SYNC_PROTOCOL,
      clientId: 'client-2',
      epoch: 1,
      seq: 1,
      entries: [
        {
          stream: { type: 'BankAccount', id: 'part' },
          expectedVersion: 3,
          events: [{ ...deposit(4), metadata: { messageId: 'm-4' } }],
        },
      ],
    })) as Applied;
    expect(answer.results[0]).toMatchObject({ status: 'accepted' });
    expect(ids(await pullAll(database))).toEqual([
      'part@1:o-1',
      'part@2:o-2',
      'part@3:o-3',
      'part@4:m-4',
    ]);
    await setDown(database, false);
    await fireAlarm(ref);
    expect(await pullAll(database)).toHaveLength(4);
  });
});
