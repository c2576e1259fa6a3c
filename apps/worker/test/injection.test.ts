import { describe, expect, it } from 'vitest';
import { api, errorOf, freshDatabase, send, sendDatabaseRouted } from './helpers';

const append = (db: string, type: string, id: string, via = send) =>
  api(db, 'POST', `/streams/${type}/${id}/events`, {
    body: { events: [{ type: 'Touched' }] },
    via,
  });
const eventsOf = async (db: string, type: string, id: string) =>
  (
    (await api(db, 'GET', `/streams/${type}/${id}/events`)).body as {
      events: { metadata: { aggregateId: string; aggregateType: string } }[];
    }
  ).events;

describe('names in path segments', () => {
  it('keeps an encoded slash inside one name: it never reaches another stream', async () => {
    const db = freshDatabase();
    expect((await append(db, 'Account', 'a%2Fb')).status).toBe(201);
    const events = await eventsOf(db, 'Account', 'a%2Fb');
    expect(events).toHaveLength(1);
    expect(events[0]!.metadata.aggregateId).toBe('a/b');
    expect(await eventsOf(db, 'Account', 'a')).toEqual([]);
    expect((await api(db, 'GET', '/streams/Account/a/b/events')).status).toBe(404);
  });

  it('decodes once: an encoded percent stays a percent', async () => {
    const db = freshDatabase();
    await append(db, 'Account', '%252F');
    const events = await eventsOf(db, 'Account', '%252F');
    expect(events[0]!.metadata.aggregateId).toBe('%2F');
    expect(await eventsOf(db, 'Account', '%2F')).toEqual([]);
  });

  it('carries unicode names', async () => {
    const db = freshDatabase();
    const id = encodeURIComponent('compte-é-日本-🙂');
    expect((await append(db, 'Account', id)).status).toBe(201);
    expect((await eventsOf(db, 'Account', id))[0]!.metadata.aggregateId).toBe('compte-é-日本-🙂');
  });

  it('refuses dot segments, control characters and malformed escapes with nothing written', async () => {
    const db = freshDatabase();
    for (const id of ['..', '%2E%2E', '.']) {
      // URL parsing resolves dot segments, so these never name a stream.
      const res = await append(db, 'Account', id, sendDatabaseRouted);
      expect(res.status, id).toBe(404);
    }
    for (const id of ['a%00b', 'a%0Ab', '%7F', 'a%ZZ', '%ED%A0%80', '%C3']) {
      const res = await append(db, 'Account', id, sendDatabaseRouted);
      expect(res.status, id).toBe(400);
      expect(errorOf(res).code, id).toBe('INVALID_ARGUMENT');
    }
    // Every stream of the database lives in one object here, so its log sees any write.
    const log = await api(db, 'GET', '/log', { via: sendDatabaseRouted });
    expect((log.body as { events: unknown[] }).events).toEqual([]);
  });

  it('cannot reach another database through an encoded database segment', async () => {
    const db = freshDatabase();
    const res = await api(`${db}%2F..%2Fother`, 'GET', '/log', { tokenDb: db });
    expect(res.status).toBe(403);
  });
});
