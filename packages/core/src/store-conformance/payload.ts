import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAYLOAD_LIMITS } from '../payload.js';
import type { EventStore } from '../store.js';
import type { EventShape, RecordedEvent } from '../types.js';
import { failure, type StoreConformanceOptions, type StoreHarness } from './harness.js';
import {
  contractPayload,
  type RefusedCase,
  refusedCases,
  refusedPayload,
} from './payload-arbitraries.js';

/** Generated cases per property at scale 1. */
const ACCEPTED_RUNS = 100;
const REFUSED_RUNS = 60;
/** Remote stores make several requests per generated case. */
const PROPERTY_TIMEOUT_MS = 180_000;

const data = (events: readonly RecordedEvent<EventShape>[]) => events.map((e) => e.data);

/**
 * The payload contract, through the store under test: every value inside it is
 * acknowledged and reads back deep-equal through every read path (read, a slice,
 * backwards, load, snapshots, query, the global log); every value outside it is refused
 * with INVALID_ARGUMENT naming where, before anything is written. Remote stores check on
 * the caller's side and again on the server's.
 */
export const payloadTests = (_options: StoreConformanceOptions, h: StoreHarness): void => {
  const runs = (base: number) => Math.max(5, Math.round(base * h.propertyRunScale));
  const generic = async () => (await h.store()) as unknown as EventStore<EventShape>;
  const byUser = h.capabilities.indexes.includes('user');

  describe('the payload contract', () => {
    it(
      'every payload inside the contract reads back deep-equal through every read path',
      async () => {
        const store = await generic();
        let run = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.array(contractPayload, { minLength: 1, maxLength: 3 }),
            contractPayload,
            async (payloads, state) => {
              const id = `p-${++run}`;
              const ref = { type: 'Payload', id };
              const userId = `user-${id}`;
              const stream = store.stream(ref);
              const appended = await stream.append(
                payloads.map((payload, i) => ({
                  type: 'Generated',
                  data: payload,
                  metadata: { messageId: `${id}-${i}`, userId },
                })),
                { expectedVersion: 'no-stream' },
              );
              expect(appended.version).toBe(payloads.length);

              expect(data(await stream.read())).toStrictEqual(payloads);
              expect(data(await stream.read({ from: 2 }))).toStrictEqual(payloads.slice(1));
              expect(data(await stream.read({ direction: 'backward' }))).toStrictEqual(
                [...payloads].reverse(),
              );
              expect(data((await stream.load()).events)).toStrictEqual(payloads);

              await stream.saveSnapshot(1, state);
              expect((await stream.latestSnapshot())?.state).toStrictEqual(state);
              expect((await stream.snapshotAt(1)).state).toStrictEqual(state);
              const loaded = await stream.load();
              expect(loaded.snapshot?.state).toStrictEqual(state);
              expect(data(loaded.events)).toStrictEqual(payloads.slice(1));

              if (byUser) {
                const page = await store.query('user', userId, { limit: 10 });
                expect(data(page.events)).toStrictEqual(payloads);
              }
              if (h.capabilities.readLog && appended.position !== undefined) {
                const log = await store.readLog({
                  after: appended.position - payloads.length,
                  limit: payloads.length,
                });
                expect(data(log.events)).toStrictEqual(payloads);
              }
            },
          ),
          { numRuns: runs(ACCEPTED_RUNS) },
        );
      },
      PROPERTY_TIMEOUT_MS,
    );

    it(
      'every payload outside the contract is refused naming where, and nothing is written',
      async () => {
        const store = await generic();
        const stream = store.stream({ type: 'Payload', id: 'refused' });
        await fc.assert(
          fc.asyncProperty(refusedPayload, async (refused) => {
            const error = await failure(() =>
              stream.append({ type: 'Generated', data: refused.data }),
            );
            expect(error, refused.label).toMatchObject({
              code: 'INVALID_ARGUMENT',
              field: `events[0].data${refused.path}`,
            });
            expect(await stream.version()).toBe(0);
          }),
          { numRuns: runs(REFUSED_RUNS) },
        );
      },
      PROPERTY_TIMEOUT_MS,
    );

    describe('each class of refused value, in event data and in snapshot state', () => {
      for (const refused of refusedCases()) {
        it(`${refused.label} -> INVALID_ARGUMENT naming its path`, async () => {
          const stream = (await generic()).stream({ type: 'Payload', id: 'refused' });
          await expectRefused(stream, refused);
        });
      }
    });

    it('an event at the size limit is stored and read back; one byte over is refused', async () => {
      const stream = (await generic()).stream({ type: 'Payload', id: 'limit' });
      // { text: '...' }: 2 for the object, 6 for the key, 2 + n for the string.
      const fits = { text: 'x'.repeat(DEFAULT_PAYLOAD_LIMITS.maxEventBytes - 10) };
      const over = { text: 'x'.repeat(DEFAULT_PAYLOAD_LIMITS.maxEventBytes - 9) };
      expect(await failure(() => stream.append({ type: 'Big', data: over }))).toMatchObject({
        code: 'INVALID_ARGUMENT',
        field: 'events[0].data',
      });
      await stream.append({ type: 'Big', data: fits });
      expect(data(await stream.read())).toStrictEqual([fits]);
    });

    it('an append whose events fit one by one but not together is refused whole', async () => {
      const stream = (await generic()).stream({ type: 'Payload', id: 'append-limit' });
      const chunk = { text: 'y'.repeat(DEFAULT_PAYLOAD_LIMITS.maxEventBytes - 10) };
      const count =
        Math.floor(DEFAULT_PAYLOAD_LIMITS.maxAppendBytes / (chunk.text.length + 10)) + 1;
      const events = Array.from({ length: count }, () => ({ type: 'Big', data: chunk }));
      expect(await failure(() => stream.append(events))).toMatchObject({
        code: 'INVALID_ARGUMENT',
        field: 'events',
      });
      expect(await stream.version()).toBe(0);
    });

    it('a value at several places counts at each: what is measured is what is stored', async () => {
      const stream = (await generic()).stream({ type: 'Payload', id: 'shared' });
      const half = { text: 'z'.repeat(Math.ceil(DEFAULT_PAYLOAD_LIMITS.maxEventBytes / 2)) };
      expect(
        await failure(() => stream.append({ type: 'Shared', data: { a: half, b: half } })),
      ).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'events[0].data' });
      const small = { n: 1, at: new Date(5) };
      await stream.append({ type: 'Shared', data: { a: small, b: [small, small] } });
      const [event] = await stream.read();
      expect(event?.data).toStrictEqual({ a: small, b: [small, small] });
    });

    it('a snapshot state over the size limit is refused', async () => {
      const stream = (await generic()).stream({ type: 'Payload', id: 'snapshot-limit' });
      await stream.append({ type: 'Any' });
      const state = { text: 's'.repeat(DEFAULT_PAYLOAD_LIMITS.maxSnapshotBytes) };
      expect(await failure(() => stream.saveSnapshot(1, state))).toMatchObject({
        code: 'INVALID_ARGUMENT',
        field: 'state',
      });
      expect(await stream.snapshotVersions()).toEqual([]);
    });

    it('names with C1 controls or lone surrogates are refused as INVALID_ARGUMENT', async () => {
      const store = await generic();
      for (const bad of ['a\u0085b', 'x\u009f', 'lone\ud800', '\udc00']) {
        for (const [field, act] of [
          ['ref.type', () => store.stream({ type: bad, id: '1' }).append({ type: 'T' })],
          ['ref.id', () => store.stream({ type: 'T', id: bad }).append({ type: 'T' })],
          ['events[0].type', () => store.stream({ type: 'T', id: '1' }).append({ type: bad })],
          [
            'events[0].metadata.userId',
            () =>
              store.stream({ type: 'T', id: '1' }).append({ type: 'T', metadata: { userId: bad } }),
          ],
        ] as const) {
          expect(await failure(act), `${field} = ${JSON.stringify(bad)}`).toMatchObject({
            code: 'INVALID_ARGUMENT',
            field,
          });
        }
      }
      expect(await store.stream({ type: 'T', id: '1' }).version()).toBe(0);
    });
  });
};

const expectRefused = async (
  stream: ReturnType<EventStore<EventShape>['stream']>,
  refused: RefusedCase,
): Promise<void> => {
  const appended = await failure(() => stream.append({ type: 'Generated', data: refused.data }));
  expect(appended, refused.label).toMatchObject({
    code: 'INVALID_ARGUMENT',
    field: `events[0].data${refused.path}`,
  });
  expect(await stream.version()).toBe(0);
  // Snapshot states have a limit of their own (`maxSnapshotBytes`), tested apart.
  if (refused.label.includes('size limit')) return;
  await stream.append({ type: 'Plain' });
  const saved = await failure(() => stream.saveSnapshot(1, refused.data));
  expect(saved, refused.label).toMatchObject({
    code: 'INVALID_ARGUMENT',
    field: refused.path === '' ? 'state' : `state${refused.path}`,
  });
  expect(await stream.snapshotVersions()).toEqual([]);
};
