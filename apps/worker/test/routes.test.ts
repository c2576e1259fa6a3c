import { describe, expect, it } from 'vitest';
import { api, freshDatabase, sendDatabaseRouted } from './helpers';

const S = '/streams/Account/42';

const deposit = (amount: number, extra: Record<string, unknown> = {}) => ({
  type: 'Deposited',
  data: { amount, at: new Date(Date.UTC(2026, 0, amount)) },
  ...extra,
});

describe('stream routes', () => {
  it('appends, reads all, a slice, backwards, and the version', async () => {
    const db = freshDatabase();
    const first = await api(db, 'POST', `${S}/events`, {
      body: { events: [deposit(1), deposit(2)], expectedVersion: 'no-stream' },
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ version: 2, firstVersion: 1, deduplicated: false });
    expect(first.headers.get('ETag')).toBe('"2"');
    await api(db, 'POST', `${S}/events`, { body: { events: [deposit(3)] } });

    const all = (await api(db, 'GET', `${S}/events`)).body as {
      events: { version: number; data: { at: Date } }[];
    };
    expect(all.events.map((e) => e.version)).toEqual([1, 2, 3]);
    expect(all.events[0]!.data.at).toBeInstanceOf(Date);
    expect(all.events[0]!.data.at.getTime()).toBe(Date.UTC(2026, 0, 1));

    const slice = (await api(db, 'GET', `${S}/events?from=2&to=3`)).body as {
      events: { version: number }[];
    };
    expect(slice.events.map((e) => e.version)).toEqual([2, 3]);
    const back = (await api(db, 'GET', `${S}/events?direction=backward&limit=2`)).body as {
      events: { version: number }[];
    };
    expect(back.events.map((e) => e.version)).toEqual([3, 2]);
    const beyond = (await api(db, 'GET', `${S}/events?from=9`)).body as { events: unknown[] };
    expect(beyond.events).toEqual([]);

    const version = await api(db, 'GET', `${S}/version`);
    expect(version.body).toEqual({ version: 3 });
    expect(version.headers.get('ETag')).toBe('"3"');
    expect((await api(db, 'GET', '/streams/Account/new/version')).body).toEqual({ version: 0 });
  });

  it('takes the expected version from If-Match', async () => {
    const db = freshDatabase();
    await api(db, 'POST', `${S}/events`, { body: { events: [deposit(1)] } });
    const ok = await api(db, 'POST', `${S}/events`, {
      body: { events: [deposit(2)] },
      headers: { 'If-Match': '"1"' },
    });
    expect(ok.status).toBe(201);
    const stale = await api(db, 'POST', `${S}/events`, {
      body: { events: [deposit(3)] },
      headers: { 'If-Match': '"1"' },
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({
      error: { code: 'VERSION_MISMATCH', expected: 1, actual: 2 },
    });
    const exists = await api(db, 'POST', `${S}/events`, {
      body: { events: [deposit(3)] },
      headers: { 'If-Match': '*' },
    });
    expect(exists.status).toBe(201);
  });

  it('deduplicates a retried append and looks versions up by message id', async () => {
    const db = freshDatabase();
    const body = { events: [deposit(1, { metadata: { messageId: 'm-1' } })] };
    expect((await api(db, 'POST', `${S}/events`, { body })).status).toBe(201);
    const retry = await api(db, 'POST', `${S}/events`, { body });
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ version: 1, deduplicated: true });
    expect((await api(db, 'GET', `${S}/messages/m-1`)).body).toEqual({ version: 1 });
    const missing = await api(db, 'GET', `${S}/messages/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({
      error: { code: 'IDEMPOTENCY_ID_NOT_FOUND', messageId: 'nope' },
    });
  });

  it('saves, lists, reads, loads with and deletes snapshots', async () => {
    const db = freshDatabase();
    await api(db, 'POST', `${S}/events`, {
      body: { events: [deposit(1), deposit(2), deposit(3)] },
    });
    expect((await api(db, 'GET', `${S}/snapshots/latest`)).body).toEqual({ snapshot: undefined });
    const state = { balance: 3n, seen: new Set(['a']), byDay: new Map([[1, 'x']]) };
    expect((await api(db, 'POST', `${S}/snapshots`, { body: { version: 1, state } })).status).toBe(
      201,
    );
    await api(db, 'POST', `${S}/snapshots`, { body: { version: 2, state } });
    expect((await api(db, 'GET', `${S}/snapshots`)).body).toEqual({ versions: [1, 2] });

    const latest = (await api(db, 'GET', `${S}/snapshots/latest`)).body as {
      snapshot: { version: number; state: typeof state };
    };
    expect(latest.snapshot.version).toBe(2);
    expect(latest.snapshot.state).toEqual(state);
    const at1 = (await api(db, 'GET', `${S}/snapshots/1`)).body as {
      version: number;
      state: typeof state;
    };
    expect(at1.version).toBe(1);
    expect(at1.state.balance).toBe(3n);

    const loaded = (await api(db, 'GET', `${S}/events?snapshot=true`)).body as {
      snapshot: { version: number };
      events: { version: number }[];
      version: number;
    };
    expect(loaded.snapshot.version).toBe(2);
    expect(loaded.events.map((e) => e.version)).toEqual([3]);
    expect(loaded.version).toBe(3);

    expect((await api(db, 'DELETE', `${S}/snapshots/1`)).status).toBe(204);
    const gone = await api(db, 'GET', `${S}/snapshots/1`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ error: { code: 'SNAPSHOT_VERSION_NOT_FOUND', version: 1 } });
    expect((await api(db, 'DELETE', `${S}/snapshots/1`)).status).toBe(404);
    // `latest` names no version to delete or that a number could name.
    for (const [method, path] of [
      ['DELETE', `${S}/snapshots/latest`],
      ['GET', `${S}/snapshots/latests`],
      ['GET', `${S}/snapshots/0`],
    ] as const) {
      const refused = await api(db, method, path);
      expect(refused.status, `${method} ${path}`).toBe(400);
      expect(refused.body).toMatchObject({ error: { code: 'INVALID_ARGUMENT', field: 'version' } });
    }
    expect((await api(db, 'DELETE', `${S}/snapshots`)).body).toEqual({ deleted: 1 });
    expect((await api(db, 'GET', `${S}/snapshots`)).body).toEqual({ versions: [] });

    const future = await api(db, 'POST', `${S}/snapshots`, { body: { version: 9, state } });
    expect(future.status).toBe(404);
    expect(future.body).toMatchObject({
      error: { code: 'VERSION_NOT_FOUND', version: 9, currentVersion: 3 },
    });
  });
});

describe('session routes', () => {
  it('opens a session that alone can write, renews, resumes and closes it', async () => {
    const db = freshDatabase();
    const opened = await api(db, 'POST', `${S}/sessions`, { body: { sessionTimeoutMs: 30_000 } });
    expect(opened.status).toBe(201);
    const { sessionId, expiresAt } = opened.body as { sessionId: string; expiresAt: number };
    expect(expiresAt).toBeGreaterThan(Date.now());
    const session = { 'Eventkv-Session': sessionId };

    const inSession = await api(db, 'POST', `${S}/events`, {
      body: { events: [deposit(1)] },
      headers: session,
    });
    expect(inSession.status).toBe(201);
    const outside = await api(db, 'POST', `${S}/events`, { body: { events: [deposit(2)] } });
    expect(outside.status).toBe(423);
    expect(outside.body).toMatchObject({ error: { code: 'STREAM_LOCKED' } });
    const second = await api(db, 'POST', `${S}/sessions`);
    expect(second.status).toBe(423);
    expect(second.body).toMatchObject({ error: { code: 'OPEN_FAILED', holder: sessionId } });

    const resumed = await api(db, 'GET', `${S}/sessions/${sessionId}`);
    expect(resumed.body).toEqual({ sessionId, expiresAt });
    const renewed = await api(db, 'POST', `${S}/sessions/${sessionId}/renew`);
    expect(renewed.status).toBe(200);
    expect((renewed.body as { expiresAt: number }).expiresAt).toBeGreaterThanOrEqual(expiresAt);

    expect((await api(db, 'DELETE', `${S}/sessions/${sessionId}`)).status).toBe(204);
    const closed = await api(db, 'POST', `${S}/events`, {
      body: { events: [deposit(2)] },
      headers: session,
    });
    expect(closed.status).toBe(404);
    expect(closed.body).toMatchObject({ error: { code: 'NOT_OPEN', sessionId } });
    expect((await api(db, 'POST', `${S}/events`, { body: { events: [deposit(2)] } })).status).toBe(
      201,
    );
    expect((await api(db, 'GET', `${S}/version`)).body).toEqual({ version: 2 });
  });

  it('answers 410 for an expired session and writes nothing', async () => {
    const db = freshDatabase();
    const opened = await api(db, 'POST', `${S}/sessions`, { body: { sessionTimeoutMs: 20 } });
    const { sessionId } = opened.body as { sessionId: string };
    await new Promise((resolve) => setTimeout(resolve, 60));
    const late = await api(db, 'POST', `${S}/events`, {
      body: { events: [deposit(1)] },
      headers: { 'Eventkv-Session': sessionId },
    });
    expect(late.status).toBe(410);
    expect(late.body).toMatchObject({ error: { code: 'SESSION_EXPIRED', sessionId } });
    expect((await api(db, 'GET', `${S}/version`)).body).toEqual({ version: 0 });
    expect((await api(db, 'POST', `${S}/sessions/${sessionId}/renew`)).status).toBe(410);
  });

  it('answers 423 to a session whose lease another session took over', async () => {
    const db = freshDatabase();
    const old = (await api(db, 'POST', `${S}/sessions`, { body: { sessionTimeoutMs: 20 } }))
      .body as { sessionId: string };
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await api(db, 'POST', `${S}/sessions`)).status).toBe(201);
    const stale = await api(db, 'POST', `${S}/events`, {
      body: { events: [deposit(1)] },
      headers: { 'Eventkv-Session': old.sessionId },
    });
    expect(stale.status).toBe(423);
    expect(stale.body).toMatchObject({
      error: { code: 'INVALID_SESSION', sessionId: old.sessionId },
    });
  });
});

describe('database routes', () => {
  const q: typeof api = (db, method, path, options = {}) =>
    api(db, method, path, { ...options, via: sendDatabaseRouted });

  it('serves queries and the log under the default per-stream routing, from the database feed', async () => {
    const db = freshDatabase();
    await api(db, 'POST', '/streams/Account/1/events', { body: { events: [deposit(1)] } });
    await api(db, 'POST', '/streams/Account/2/events', { body: { events: [deposit(2)] } });
    // The Worker's store waits until the feed holds the appends it made.
    const log = (await api(db, 'GET', '/log')).body as {
      events: { metadata: { aggregateId: string }; position: number }[];
      position: number;
    };
    expect(log.events.map((e) => [e.metadata.aggregateId, e.position])).toEqual([
      ['1', 1],
      ['2', 2],
    ]);
    const byType = (await api(db, 'GET', '/query/eventType/Deposited')).body as {
      events: unknown[];
    };
    expect(byType.events).toHaveLength(2);
  });

  it('queries an index by time and pages through the global log (database routing)', async () => {
    const db = freshDatabase();
    await q(db, 'POST', '/streams/Account/1/events', {
      body: { events: [deposit(1), { type: 'Closed' }] },
    });
    await q(db, 'POST', '/streams/Account/2/events', { body: { events: [deposit(2)] } });

    const byType = (await q(db, 'GET', '/query/eventType/Deposited')).body as {
      events: { metadata: { aggregateId: string } }[];
    };
    expect(byType.events.map((e) => e.metadata.aggregateId)).toEqual(['1', '2']);
    const none = (await q(db, 'GET', `/query/eventType/Deposited?since=${Date.now() + 60_000}`))
      .body as { events: unknown[] };
    expect(none.events).toEqual([]);
    const paged = (await q(db, 'GET', '/query/aggregateType/Account?limit=2')).body as {
      events: unknown[];
      cursor?: string;
    };
    expect(paged.events).toHaveLength(2);
    const rest = (
      await q(
        db,
        'GET',
        `/query/aggregateType/Account?limit=2&cursor=${encodeURIComponent(paged.cursor!)}`,
      )
    ).body as { events: unknown[] };
    expect(rest.events).toHaveLength(1);

    const log = (await q(db, 'GET', '/log?after=1&limit=10')).body as {
      events: { type: string }[];
      position: number;
    };
    expect(log.events.map((e) => e.type)).toEqual(['Closed', 'Deposited']);
    expect(log.position).toBe(3);

    const badIndex = await q(db, 'GET', '/query/colour/red');
    expect(badIndex.status).toBe(400);
    expect(badIndex.body).toMatchObject({ error: { code: 'INVALID_ARGUMENT', field: 'index' } });
  });
});
