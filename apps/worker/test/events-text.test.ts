import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { type EventStream, type ReadOptions, storedToWire } from '@eventkv/core';
import {
  createDurableObjectEventStore,
  createDurableObjectKv,
  objectNameFor,
  type Routing,
} from '@eventkv/durable-object';
import { describe, expect, it } from 'vitest';
import { readEventsPage } from '../src/routes/events';
import { freshDatabase, ORIGIN, send, sendDatabaseRouted, tokenFor } from './helpers';

const tricky = [
  {
    type: 'Opened',
    data: {
      at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
      big: -98_765_432_109_876_543_210n,
      zero: -0,
      $ref: 'a name starting with $',
      text: 'naïve ☕ 𝄞 \u0000 "q" \\ \u2028',
    },
  },
  { type: 'Plain', data: { n: 1, list: [true, null, 'x'] } },
  { type: 'Ünïcødé ✓', data: { '𝄞': new Map([['k', new Set([1n])]]), u: undefined } },
];

const routings: [Routing, (request: Request) => Promise<Response>][] = [
  ['stream', send],
  ['database', sendDatabaseRouted],
];

const get = async (via: (r: Request) => Promise<Response>, db: string, path: string) =>
  via(
    new Request(`${ORIGIN}/v1/${db}/streams/Account/7/events${path}`, {
      headers: { Authorization: `Bearer ${await tokenFor(db)}` },
    }),
  );

/** The same stream without the object's text: the Worker cuts and writes the page itself. */
const valuesOnly = (stream: EventStream): Pick<EventStream, 'read' | 'version'> => ({
  read: (options) => stream.read(options),
  version: () => stream.version(),
});

describe.each(routings)(
  'GET .../events answers the text its object wrote (%s routing)',
  (routing, via) => {
    it('byte for byte what the Worker wrote from the page as values', async () => {
      const db = freshDatabase();
      const stream = createDurableObjectEventStore(env.EVENT_STORE, {
        routing,
        database: db,
      }).stream({
        type: 'Account',
        id: '7',
      });
      await stream.append(tricky);
      await stream.append(tricky);
      for (const [query, options] of [
        ['', {}],
        ['?from=2&to=5', { from: 2, to: 5 }],
        ['?direction=backward&limit=4', { direction: 'backward', limit: 4 }],
        ['?from=7', { from: 7 }],
      ] as [string, ReadOptions][]) {
        const response = await get(via, db, query);
        expect(response.status).toBe(200);
        expect(response.headers.get('Content-Type')).toBe('application/json');
        expect(await response.text()).toBe(
          storedToWire(await readEventsPage(valuesOnly(stream), options)),
        );
      }
    });

    it('a stored event that cannot be written as wire JSON is answered 422 naming it', async () => {
      const db = freshDatabase();
      const ref = { database: db, type: 'Account', id: '7' };
      const stream = createDurableObjectEventStore(env.EVENT_STORE, {
        routing,
        database: db,
      }).stream(ref);
      await stream.append([{ type: 'Fine', data: { n: 1 } }]);
      await runInDurableObject(
        env.EVENT_STORE.get(env.EVENT_STORE.idFromName(objectNameFor(ref, routing))),
        async (_instance, state) => {
          const key = [...state.storage.kv.list()]
            .map(([k]) => k)
            .find((k) => k.includes('/e/Account/7/'));
          if (key === undefined) throw new Error('no event entry');
          // Older data the payload contract would refuse today: the event made cyclic.
          await createDurableObjectKv(state.storage).write([key], ([value]) => {
            const data: Record<string, unknown> = {};
            data.self = data;
            return { puts: [{ key, value: { ...(value as object), data } }] };
          });
        },
      );
      const response = await get(via, db, '');
      expect(response.status).toBe(422);
      expect(await response.json()).toMatchObject({
        error: { code: 'CORRUPT_RECORD', key: `${db}/Account/7/event/1`, version: 1 },
      });
    });
  },
);
