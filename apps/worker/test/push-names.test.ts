import { fromWire } from '@eventkv/client';
import { PUSH_SUBPROTOCOL, type RecordedEvent } from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import { acceptSocket } from './accepted-socket';
import { api, freshDatabase, ORIGIN, send, sendDatabaseRouted, tokenFor } from './helpers';

// A push socket keeps what it needs across hibernation in its attachment, which the
// runtime bounds (2 KiB): the names it follows (up to 256 characters each, of any script)
// and its unacknowledged batches must fit there however long the names are and however
// many batches wait for their acks, or the socket fails on every send and its client
// reconnects forever without getting past it. Under both routings, though under 'stream'
// routing a stream's object name (the three names percent-encoded, about 7 KB here) is far
// longer than the runtime tells an object (1024 bytes).

const ROUTINGS = [
  ['stream', send],
  ['database', sendDatabaseRouted],
] as const;

const seg = encodeURIComponent;
/** The longest names there are, in a script that takes two bytes a character everywhere. */
const longest = (prefix: string) => prefix + '字'.repeat(256 - prefix.length);

/**
 * Opens a push socket at `path` (under `/v1/{database}`) that acknowledges nothing; collects
 * what it is sent and notes its close.
 */
const openUnacknowledged = async (
  via: (request: Request) => Promise<Response>,
  database: string,
  path: string,
) => {
  const token = await tokenFor(database);
  const res = await via(
    new Request(`${ORIGIN}/v1/${seg(database)}${path}`, {
      headers: {
        Upgrade: 'websocket',
        'Sec-WebSocket-Protocol': `${PUSH_SUBPROTOCOL}, bearer.${token}`,
      },
    }),
  );
  expect(res.status).toBe(101);
  const events: RecordedEvent[] = [];
  const socket = acceptSocket(
    res.webSocket,
    () => events.length,
    (data) => {
      events.push(...(fromWire(data) as { events: RecordedEvent[] }).events);
    },
  );
  let closed: { code: number; reason: string } | undefined;
  void socket.closed.then((close) => {
    closed = close;
  });
  return {
    events,
    socket,
    /** How the socket closed, once it has. */
    closed: () => closed,
    close: () => res.webSocket?.close(1000, 'done'),
  };
};

describe.each(ROUTINGS)('push sockets with the longest names (%s routing)', (_routing, via) => {
  it('a stream socket whose client acknowledges nothing gets every append, one batch each, none acknowledged', async () => {
    const database = longest(`${freshDatabase()}-`);
    const type = longest('T');
    const id = longest('I');
    const path = `/streams/${seg(type)}/${seg(id)}`;
    const live = await openUnacknowledged(via, database, `${path}/live?from=1`);
    // One append at a time, each pushed before the next: a batch each, none acknowledged.
    for (let n = 1; n <= 40; n++) {
      const appended = await api(seg(database), 'POST', `${path}/events`, {
        via,
        tokenDb: database,
        body: { events: [{ type: 'Deposited', data: { n } }] },
      });
      expect(appended.status).toBe(201);
      await Promise.race([live.socket.received(n), live.socket.closed]);
      expect(live.closed(), `after append ${n}`).toBeUndefined();
    }
    expect(live.events.map((e) => e.version)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    live.close();
  }, 60_000);

  it('a log socket of the longest database name, acknowledging nothing, gets every append', async () => {
    const database = longest(`${freshDatabase()}-`);
    const live = await openUnacknowledged(via, database, '/log/live?after=0');
    for (let n = 1; n <= 40; n++) {
      await api(seg(database), 'POST', `/streams/Account/${n % 3}/events`, {
        via,
        tokenDb: database,
        body: { events: [{ type: 'Deposited', data: { n } }] },
      });
      await Promise.race([live.socket.received(n), live.socket.closed]);
      expect(live.closed(), `after append ${n}`).toBeUndefined();
    }
    expect(live.events.map((e) => e.position)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    live.close();
  }, 60_000);
});
