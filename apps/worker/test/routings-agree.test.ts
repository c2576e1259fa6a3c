import type { RecordedEvent } from '@eventkv/core';
import { seededRandom } from '@eventkv/core/testing';
import { describe, expect, it } from 'vitest';
import { type ApiResponse, api, errorOf, freshDatabase, send, sendDatabaseRouted } from './helpers';

// The same history written under the default 'stream' routing (queries and the log from
// the database's feed) and under 'database' routing (from the object that holds every
// stream): the database-wide routes give the same answers, up to the order of streams in
// the log, through every page and at the edge values of their parameters. Names carry
// '/', '%', escapes that look like their own decoding, and characters outside ASCII, in
// the database, the streams, the event types and the indexed metadata.

type Via = (request: Request) => Promise<Response>;
const ROUTINGS = [
  ['stream', send],
  ['database', sendDatabaseRouted],
] as const;

const STREAMS = [
  { type: 'Account', id: '1' },
  { type: 'Ledger/EU', id: 'a/b' },
  { type: 'Account', id: '100%' },
  { type: 'Account', id: '%2F' },
  { type: 'Kontø', id: 'ünï😀' },
  // The longest names: the object name of this stream (about 4.6 KB percent-encoded) is
  // longer than the runtime tells an object its name (1024 bytes).
  { type: '口'.repeat(256), id: '字'.repeat(256) },
] as const;
const EVENT_TYPES = ['Deposited', 'Paid/Out', '50%Off', 'Überweisung😀'] as const;
const USERS = ['alice', 'bob/x', 'ç%41'] as const;
const CORRELATIONS = ['c1', 'c/2', '%2F'] as const;

interface Planned {
  readonly stream: (typeof STREAMS)[number];
  readonly events: {
    type: string;
    data: { n: number };
    metadata: { userId: string; correlationId: string; messageId: string };
  }[];
}

/** A history of appends interleaving every stream, the same for both routings. */
const history = (seed: number): Planned[] => {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  let n = 0;
  return Array.from({ length: 24 }, () => ({
    stream: pick(STREAMS),
    events: Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
      n += 1;
      return {
        type: pick(EVENT_TYPES),
        data: { n },
        metadata: { userId: pick(USERS), correlationId: pick(CORRELATIONS), messageId: `m-${n}` },
      };
    }),
  }));
};

const seg = encodeURIComponent;
const streamPath = (s: { type: string; id: string }) => `/streams/${seg(s.type)}/${seg(s.id)}`;

/** The routing-independent face of an event: what it is and where its stream has it. */
const face = (e: RecordedEvent) =>
  `${e.metadata.aggregateType}|${e.metadata.aggregateId}|${e.version}|${e.type}|${(e.data as { n: number }).n}`;

const bodyOf = <T>(res: ApiResponse): T => {
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as T;
};

/** A client of one database under one routing, its database name percent-encoded in paths. */
const clientOf = (database: string, via: Via) => {
  const call = (method: string, path: string, body?: unknown) =>
    api(seg(database), method, path, {
      via,
      tokenDb: database,
      ...(body === undefined ? {} : { body }),
    });
  return {
    call,
    /** The whole log, `limit` at a time. */
    log: async (limit: number) => {
      const events: RecordedEvent[] = [];
      for (let after = 0; ; ) {
        const page = bodyOf<{ events: RecordedEvent[]; position: number }>(
          await call('GET', `/log?after=${after}&limit=${limit}`),
        );
        expect(page.events.length).toBeLessThanOrEqual(limit);
        events.push(...page.events);
        if (page.events.length === 0) {
          expect(page.position).toBe(after);
          return events;
        }
        expect(page.position).toBe(page.events.at(-1)?.position);
        after = page.position;
      }
    },
    /** Every event of a query, following its cursors, `limit` at a time (or one page). */
    query: async (index: string, value: string, limit?: number) => {
      const events: RecordedEvent[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 500; pages++) {
        const params = new URLSearchParams();
        if (limit !== undefined) params.set('limit', String(limit));
        if (cursor !== undefined) params.set('cursor', cursor);
        const query = params.size === 0 ? '' : `?${params}`;
        const page = bodyOf<{ events: RecordedEvent[]; cursor?: string }>(
          await call('GET', `/query/${index}/${seg(value)}${query}`),
        );
        events.push(...page.events);
        if (page.cursor === undefined) return events;
        cursor = page.cursor;
      }
      throw new Error('a query that never ends');
    },
  };
};

/** Writes the history; answers the database's name. */
const write = async (via: Via, planned: readonly Planned[]): Promise<string> => {
  const database = `${freshDatabase()}/ü%2F 😀`;
  const client = clientOf(database, via);
  for (const { stream, events } of planned) {
    const res = await client.call('POST', `${streamPath(stream)}/events`, { events });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  return database;
};

/** Per stream, the events of a list in the order the list has them. */
const byStream = (events: readonly RecordedEvent[]) => {
  const streams = new Map<string, number[]>();
  for (const e of events) {
    const key = `${e.metadata.aggregateType}|${e.metadata.aggregateId}`;
    streams.set(key, [...(streams.get(key) ?? []), e.version]);
  }
  return streams;
};

describe("the database-wide routes answer the same under 'stream' and 'database' routing", () => {
  it('the log, whole and page by page: every event once, each stream in order, positions 1..n', async () => {
    const planned = history(7);
    const total = planned.reduce((sum, p) => sum + p.events.length, 0);
    const logs: string[][] = [];
    for (const [routing, via] of ROUTINGS) {
      const client = clientOf(await write(via, planned), via);
      const whole = await client.log(1000);
      expect(
        whole.map((e) => e.position),
        routing,
      ).toEqual(whole.map((_, i) => i + 1));
      expect(whole, routing).toHaveLength(total);
      for (const [stream, versions] of byStream(whole)) {
        expect(versions, `${routing} ${stream}`).toEqual(versions.map((_, i) => i + 1));
      }
      for (const limit of [1, 7]) {
        expect((await client.log(limit)).map(face), `${routing} limit ${limit}`).toEqual(
          whole.map(face),
        );
      }
      const position = bodyOf<{ position: number }>(await client.call('GET', '/log/position'));
      expect(position.position, routing).toBe(total);
      logs.push(whole.map(face));
    }
    // Streams may interleave differently (the feed's order is its deliveries'): the same events.
    expect([...(logs[0] as string[])].sort()).toEqual([...(logs[1] as string[])].sort());
  }, 60_000);

  it('every query of every index, in one page and page by page, names with / % and Unicode', async () => {
    const planned = history(11);
    const queries: [string, string][] = [
      ...EVENT_TYPES.map((v): [string, string] => ['eventType', v]),
      ...[...new Set(STREAMS.map((s) => s.type))].map((v): [string, string] => [
        'aggregateType',
        v,
      ]),
      ...USERS.map((v): [string, string] => ['user', v]),
      ...CORRELATIONS.map((v): [string, string] => ['correlation', v]),
    ];
    const answers: Record<string, string[]>[] = [];
    for (const [routing, via] of ROUTINGS) {
      const client = clientOf(await write(via, planned), via);
      const answer: Record<string, string[]> = {};
      for (const [index, value] of queries) {
        const label = `${routing} ${index}=${value}`;
        const whole = await client.query(index, value);
        // What the history says this query finds.
        const expected = planned.flatMap((p) =>
          p.events.filter(
            (e) =>
              (index === 'eventType' && e.type === value) ||
              (index === 'aggregateType' && p.stream.type === value) ||
              (index === 'user' && e.metadata.userId === value) ||
              (index === 'correlation' && e.metadata.correlationId === value),
          ),
        );
        expect(
          whole.map((e) => (e.data as { n: number }).n).sort((a, b) => a - b),
          label,
        ).toEqual(expected.map((e) => e.data.n).sort((a, b) => a - b));
        // In time order, each stream's events in version order.
        const times = whole.map((e) => e.metadata.timestamp);
        expect(times, label).toEqual([...times].sort((a, b) => a - b));
        for (const [stream, versions] of byStream(whole)) {
          expect(versions, `${label} ${stream}`).toEqual([...versions].sort((a, b) => a - b));
        }
        expect((await client.query(index, value, 2)).map(face), `${label} by 2`).toEqual(
          whole.map(face),
        );
        answer[`${index}=${value}`] = whole.map(face).sort();
      }
      answers.push(answer);
    }
    expect(answers[0]).toEqual(answers[1]);
  }, 120_000);

  it.each(ROUTINGS)(
    'empty answers and the edge values of the parameters (%s routing)',
    async (_routing, via) => {
      const planned = history(3).slice(0, 4);
      const total = planned.reduce((sum, p) => sum + p.events.length, 0);
      const client = clientOf(await write(via, planned), via);
      const invalid = async (path: string, field: string) => {
        const res = await client.call('GET', path);
        expect(res.status, path).toBe(400);
        expect(errorOf(res), path).toMatchObject({ code: 'INVALID_ARGUMENT', field });
      };

      // Nothing to find: no events and no cursor.
      expect(bodyOf(await client.call('GET', '/query/eventType/Nothing'))).toEqual({ events: [] });
      expect(bodyOf(await client.call('GET', `/query/user/${seg('ALICE')}`))).toEqual({
        events: [],
      });
      // At and past the head: nothing, at the position asked for.
      const max = Number.MAX_SAFE_INTEGER;
      expect(bodyOf(await client.call('GET', `/log?after=${total}`))).toEqual({
        events: [],
        position: total,
      });
      expect(bodyOf(await client.call('GET', `/log?after=${max}`))).toEqual({
        events: [],
        position: max,
      });
      expect(bodyOf(await client.call('GET', `/log?after=${max}&wait=0`))).toEqual({
        events: [],
        position: max,
      });
      // The largest page there is, and an empty time window at either end.
      const all = bodyOf<{ events: unknown[] }>(await client.call('GET', '/log?limit=1000'));
      expect(all.events).toHaveLength(total);
      const byType = (query: string) => client.call('GET', `/query/aggregateType/Account${query}`);
      expect(bodyOf(await byType('?until=0'))).toEqual({ events: [] });
      expect(bodyOf(await byType(`?since=${Date.now() + 3_600_000}`))).toEqual({ events: [] });
      expect(
        bodyOf<{ events: unknown[] }>(await byType(`?since=0&until=${max}`)).events.length,
      ).toBe(bodyOf<{ events: unknown[] }>(await byType('')).events.length);

      await invalid('/log?limit=0', 'options.limit');
      await invalid('/log?limit=1001', 'options.limit');
      await invalid('/log?after=-1', 'after');
      await invalid('/log?after=1.5', 'after');
      await invalid(`/log?after=${max + 1}`, 'after');
      await invalid('/log?after=1e3', 'after');
      await invalid('/query/eventType/Deposited?limit=0', 'options.limit');
      await invalid('/query/eventType/Deposited?limit=1001', 'options.limit');
      await invalid('/query/eventType/Deposited?since=5&until=4', 'options.since');
      await invalid('/query/eventType/Deposited?cursor=nonsense', 'options.cursor');
      // A cursor of another query, and of the same query in another database, are refused.
      const page = bodyOf<{ cursor?: string }>(
        await client.call('GET', '/query/aggregateType/Account?limit=1'),
      );
      expect(page.cursor).toBeTypeOf('string');
      await invalid(
        `/query/aggregateType/Kont%C3%B8?cursor=${seg(page.cursor as string)}`,
        'options.cursor',
      );
      await invalid(
        `/query/eventType/Account?cursor=${seg(page.cursor as string)}`,
        'options.cursor',
      );
      const other = clientOf(await write(via, planned.slice(0, 1)), via);
      const foreign = await other.call(
        'GET',
        `/query/aggregateType/Account?cursor=${seg(page.cursor as string)}`,
      );
      expect(foreign.status).toBe(400);
    },
    60_000,
  );
});
