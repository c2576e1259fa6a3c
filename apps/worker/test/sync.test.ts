import { fromWire, isHttpError, toWire } from '@eventkv/client';
import { createMemoryKv } from '@eventkv/core';
import {
  createHttpSyncRemote,
  createSyncedStore,
  type PushRequest,
  type PushResponse,
  SYNC_PROTOCOL,
} from '@eventkv/sync';
import { describe, expect, it } from 'vitest';
import {
  api,
  errorOf,
  freshDatabase,
  ORIGIN,
  send,
  sendDatabaseRouted,
  type TokenClaims,
  tokenFor,
} from './helpers';

type Ledger =
  | { type: 'Opened'; data: { owner: string; at: Date } }
  | { type: 'Deposited'; data: { amount: number } }
  | { type: 'Withdrawn'; data: { amount: number } };

const account = { type: 'Account', id: '42' };

type Send = (request: Request) => Promise<Response>;

/** A replica on its own memory storage, syncing with the Worker (`via`) as `user`. */
const replicaVia = async (via: Send, db: string, user = 'ann') =>
  createSyncedStore<Ledger>({
    kv: createMemoryKv(),
    remote: createHttpSyncRemote(ORIGIN, {
      token: await tokenFor(db, { sub: user }),
      fetch: via,
    }),
  });

interface Raw {
  readonly status: number;
  readonly body: unknown;
}

/** A sync request as it is sent: a raw body and the token's claims (`sub: 'ann'` unless given). */
const syncCall = async (
  db: string,
  kind: 'push' | 'pull',
  body: string | undefined,
  options: {
    claims?: TokenClaims;
    tokenDb?: string;
    token?: false;
    via?: (request: Request) => Promise<Response>;
  } = {},
): Promise<Raw> => {
  const headers = new Headers();
  if (options.token !== false) {
    const token = await tokenFor(options.tokenDb ?? db, { sub: 'ann', ...options.claims });
    headers.set('Authorization', `Bearer ${token}`);
  }
  if (body !== undefined) headers.set('Content-Type', 'application/json');
  const res = await (options.via ?? sendDatabaseRouted)(
    new Request(`${ORIGIN}/v1/${db}/sync/${kind}`, {
      method: 'POST',
      headers,
      ...(body === undefined ? {} : { body }),
    }),
  );
  const text = await res.text();
  return { status: res.status, body: res.ok ? fromWire(text) : JSON.parse(text) };
};

const pushOf = (seq: number, overrides: Partial<PushRequest> = {}): PushRequest => ({
  protocol: SYNC_PROTOCOL,
  clientId: `client-${crypto.randomUUID()}`,
  epoch: 1,
  seq,
  entries: [
    {
      stream: account,
      expectedVersion: 0,
      events: [{ type: 'Deposited', data: { amount: 5 }, metadata: { messageId: 'm-1' } }],
    },
  ],
  ...overrides,
});

const code = (res: Raw) => errorOf({ ...res, headers: new Headers() });

// The Worker as deployed (ROUTING=stream, the default: a Durable Object per stream, and the
// database's object is their feed) and the same API with ROUTING=database.
describe.each([
  { routing: 'stream', via: send },
  { routing: 'database', via: sendDatabaseRouted },
])('the sync routes (ROUTING=$routing)', ({ via }) => {
  const replica = (db: string, user?: string) => replicaVia(via, db, user);
  const syncVia: typeof syncCall = (db, kind, body, options = {}) =>
    syncCall(db, kind, body, { via, ...options });

  it('a replica pushes its appends, and another replica pulls them', async () => {
    const db = freshDatabase();
    const a = await replica(db);
    const b = await replica(db, 'bob');
    const at = new Date(Date.UTC(2026, 0, 2));
    await a.stream(account).append({ type: 'Opened', data: { owner: 'ann', at } });
    await a.stream(account).append({ type: 'Deposited', data: { amount: 10 } });
    await expect(a.sync.syncNow()).resolves.toEqual({ pushed: 2, pulled: 0 });
    expect((await a.stream(account).read()).map((e) => e.confirmed)).toEqual([true, true]);

    await expect(b.sync.syncNow()).resolves.toEqual({ pushed: 0, pulled: 2 });
    const theirs = await b.stream(account).read();
    expect(theirs.map((e) => [e.type, e.version, e.confirmed])).toEqual([
      ['Opened', 1, true],
      ['Deposited', 2, true],
    ]);
    // Through the wire and the object as they were: a Date stays a Date.
    expect(theirs[0]?.data).toEqual({ owner: 'ann', at });
    expect(theirs.map((e) => e.metadata.messageId)).toEqual(
      (await a.stream(account).read()).map((e) => e.metadata.messageId),
    );

    // The same events the HTTP API reads from the database's object.
    const read = await api(db, 'GET', '/streams/Account/42/events', { via });
    expect((read.body as { events: { type: string }[] }).events.map((e) => e.type)).toEqual([
      'Opened',
      'Deposited',
    ]);
  });

  it("an append through the HTTP API reaches replicas, and the log's answer is the pulls'", async () => {
    const db = freshDatabase();
    const a = await replica(db);
    const reader = createHttpSyncRemote(ORIGIN, {
      token: await tokenFor(db, { sub: 'bob' }),
      fetch: via,
    });
    await a.stream(account).append({ type: 'Deposited', data: { amount: 1 } });
    await a.sync.syncNow();
    const first = await reader.pull({ protocol: SYNC_PROTOCOL });
    if ('reset' in first) throw new Error('a fresh reader was answered a reset');
    // Another writer's append through the ordinary route: under ROUTING=stream the feed
    // takes it after its stream object's delivery, and the long-poll says when.
    await api(db, 'POST', '/streams/Account/42/events', {
      body: { events: [{ type: 'Deposited', data: { amount: 2 } }], expectedVersion: 1 },
      via,
    });
    const waited = await reader.wait?.({
      protocol: SYNC_PROTOCOL,
      cursor: first.cursor,
      timeoutMs: 20_000,
    });
    expect(waited?.changed).toBe(true);
    await a.sync.syncNow();
    expect((await a.stream(account).read()).map((e) => [e.version, e.data])).toEqual([
      [1, { amount: 1 }],
      [2, { amount: 2 }],
    ]);

    const pulled = await reader.pull({ protocol: SYNC_PROTOCOL });
    const log = await api(db, 'GET', '/log', { via });
    const page = log.body as { events: { position: number; metadata: { messageId: string } }[] };
    expect(
      'events' in pulled && pulled.events.map((e) => [e.position, e.metadata.messageId]),
    ).toEqual(page.events.map((e) => [e.position, e.metadata.messageId]));
    expect(page.events).toHaveLength(2);
  });

  it("a conflict reaches the second replica's inbox with the edge's events", async () => {
    const db = freshDatabase();
    const a = await replica(db);
    const b = await replica(db, 'bob');
    await a
      .stream(account)
      .append({ type: 'Deposited', data: { amount: 100 } }, { expectedVersion: 0 });
    await b
      .stream(account)
      .append({ type: 'Withdrawn', data: { amount: 30 } }, { expectedVersion: 0 });
    await a.sync.syncNow();
    await b.sync.syncNow();

    const [conflict] = await b.sync.conflicts();
    expect(conflict).toMatchObject({ kind: 'conflict', base: 0 });
    expect(conflict?.theirs.map((e) => [e.type, e.version])).toEqual([['Deposited', 1]]);
    expect(conflict?.mine.map((e) => e.type)).toEqual(['Withdrawn']);
    expect(await b.sync.status()).toMatchObject({ pending: 1, conflicts: 1 });

    await b.sync.resolve(account, { rebase: () => [{ type: 'Withdrawn', data: { amount: 30 } }] });
    await b.sync.syncNow();
    await a.sync.syncNow();
    expect((await a.stream(account).read()).map((e) => e.type)).toEqual(['Deposited', 'Withdrawn']);
  });

  it('the same push twice answers the same results and writes once', async () => {
    const db = freshDatabase();
    const body = toWire(pushOf(1));
    const first = await syncVia(db, 'push', body);
    const second = await syncVia(db, 'push', body);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    const one = first.body as Extract<PushResponse, { outcome: 'applied' }>;
    const two = second.body as Extract<PushResponse, { outcome: 'applied' }>;
    expect([one.outcome, one.replayed, two.outcome, two.replayed]).toEqual([
      'applied',
      false,
      'applied',
      true,
    ]);
    expect(two.results).toEqual(one.results);
    expect(one.results[0]).toMatchObject({ status: 'accepted' });
    const read = await api(db, 'GET', '/streams/Account/42/events', { via });
    expect((read.body as { events: unknown[] }).events).toHaveLength(1);
  });

  it('authenticates: no token 401, another database 403, no user 401, and binds a client id to its user', async () => {
    const db = freshDatabase();
    const body = toWire({ protocol: SYNC_PROTOCOL });
    const anonymous = await syncVia(db, 'pull', body, { token: false });
    expect([anonymous.status, code(anonymous).code]).toEqual([401, 'UNAUTHORIZED']);
    const elsewhere = await syncVia(db, 'pull', body, { tokenDb: freshDatabase() });
    expect([elsewhere.status, code(elsewhere).code]).toEqual([403, 'FORBIDDEN']);
    const nobody = await syncVia(db, 'push', toWire(pushOf(1)), { claims: { sub: undefined } });
    expect([nobody.status, code(nobody).code]).toEqual([401, 'UNAUTHORIZED']);
    expect(code(nobody).message).toMatch(/sub claim/);

    const push = pushOf(1);
    expect((await syncVia(db, 'push', toWire(push))).status).toBe(200);
    const stolen = await syncVia(db, 'push', toWire({ ...push, seq: 2 }), {
      claims: { sub: 'mallory' },
    });
    expect(stolen.status).toBe(400);
    expect(code(stolen)).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'clientId' });
    expect(code(stolen).message).toMatch(/another user/);
  });

  it('a replica whose token names no user gets the 401, and its outbox waits', async () => {
    const db = freshDatabase();
    const local = createSyncedStore<Ledger>({
      kv: createMemoryKv(),
      remote: createHttpSyncRemote(ORIGIN, {
        token: await tokenFor(db),
        fetch: via,
      }),
    });
    await local.stream(account).append({ type: 'Deposited', data: { amount: 1 } });
    const caught = await local.sync.syncNow().catch((error: unknown) => error);
    expect(isHttpError(caught) && [caught.status, caught.code]).toEqual([401, 'UNAUTHORIZED']);
    expect(await local.sync.status()).toMatchObject({ pending: 1 });
  });

  it('refuses malformed bodies with 400', async () => {
    const db = freshDatabase();
    const cases: [string | undefined, string, string?][] = [
      [undefined, 'MALFORMED_BODY'],
      ['{"protocol": 1', 'MALFORMED_BODY'],
      ['[1, 2]', 'INVALID_ARGUMENT', 'request'],
      ['{"protocol": 2}', 'INVALID_ARGUMENT', 'protocol'],
      [toWire({ ...pushOf(1), entries: [] }), 'INVALID_ARGUMENT', 'entries'],
      [toWire({ ...pushOf(1), seq: 0 }), 'INVALID_ARGUMENT', 'seq'],
      [toWire({ ...pushOf(1), clientId: '' }), 'INVALID_ARGUMENT', 'clientId'],
    ];
    for (const [body, expected, field] of cases) {
      const res = await syncVia(db, 'push', body);
      expect([res.status, code(res).code, code(res).field]).toEqual([400, expected, field]);
    }
    const pull = await syncVia(db, 'pull', toWire({ protocol: SYNC_PROTOCOL, limit: 5000 }));
    expect([pull.status, code(pull).field]).toEqual([400, 'limit']);
  });
});
