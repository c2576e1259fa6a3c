/**
 * The migration checks every backend runs: a store over data the release before index keys
 * wrote (a legacy fixture, made by `scenario.ts` at commit 0f4a16c), once its adapter has
 * migrated it, answers every question that release answered exactly as it did. The questions
 * are asked again with the same code that recorded the answers (`answers.ts`), and each
 * answer must equal the recorded one.
 *
 * Each backend loads its own dump of the data (IndexedDB databases, Durable Object storage
 * entries) and checks its own layout; what the store answers is checked here, once.
 */
import { expect, it } from 'vitest';
import {
  createSuperjsonCodec,
  type EventStore,
  type EventStream,
  type RecordedEvent,
  type StreamRef,
} from '../../src/index.js';
import {
  answerQueries,
  type EventRef,
  eventTable,
  type Question,
  readLogs,
  readStreams,
  retryAppends,
} from './answers.js';

/** The answers a fixture recorded, compared as they are. */
// biome-ignore lint/suspicious/noExplicitAny: recorded JSON, compared field by field
export type Recorded = any;

/** A legacy fixture decoded: Dates, Maps, Sets, binary data and bigints restored. */
export const decodeLegacyFixture = (encoded: unknown): Recorded =>
  createSuperjsonCodec().decode(encoded as never);

type RefOf = (event: RecordedEvent) => EventRef;

/** The log of each database recorded, read again page by page: the same pages. */
export const expectLogs = async (
  store: Pick<EventStore, 'readLog'>,
  logs: readonly Recorded[],
  refOf: RefOf,
): Promise<void> => {
  const databases = logs.map((log) => log.database as string);
  expect(await readLogs(store, databases, refOf)).toEqual(logs);
};

/** Every query recorded, asked again: the same events, in the same order. */
export const expectQueries = async (
  store: Pick<EventStore, 'query'>,
  queries: readonly Recorded[],
  refOf: RefOf,
): Promise<void> => {
  const questions: Question[] = queries.map(({ eventRefs: _, ...question }) => question);
  expect(await answerQueries(store, questions, refOf)).toEqual(queries);
};

/** Every message id recorded still finds the version of its event. */
export const expectMessageIds = async (
  store: Pick<EventStore, 'stream'>,
  messageIds: readonly { ref: StreamRef; messageId: string; version: number }[],
): Promise<void> => {
  for (const { ref, messageId, version } of messageIds) {
    expect(await store.stream(ref).versionOf(messageId), messageId).toBe(version);
  }
};

/** Every recorded append made again: deduplicated (or refused) as it was. */
export const expectRetries = async (
  store: EventStore,
  appends: readonly Recorded[],
  session?: EventStream,
): Promise<void> => {
  expect(await retryAppends(store, appends, session)).toEqual(appends);
};

export interface LegacyStoreTestOptions {
  /**
   * What the previous release answered on its store (`expected.store` of legacy-v1.json,
   * `expected` of legacy-kv.json).
   */
  readonly expected: Recorded;
  /**
   * Runs `body` with a store over a fresh copy of the previous release's data, migrated by
   * the adapter, its clock at the fixture's `meta.clock.end` (the recorded session's lease
   * still held); releases what it opened afterwards.
   */
  readonly withStore: <T>(body: (store: EventStore) => Promise<T>) => Promise<T>;
}

/** Registers the checks of a migrated store's answers in the calling `describe`. */
export const legacyStoreTests = ({ expected, withStore }: LegacyStoreTestOptions): void => {
  it("answers every read of the previous release's store as it did", () =>
    withStore(async (store) => {
      expect(store.capabilities).toEqual(expected.capabilities);
      const refOf = eventTable(expected.streams);
      const refs = expected.streams.map((s: Recorded) => s.ref);
      expect(await readStreams(store, refs)).toEqual(expected.streams);
      await expectLogs(store, expected.logs, refOf);
      await expectQueries(store, expected.queries, refOf);
      await expectQueries(store, expected.windowedQueries, refOf);
      await expectMessageIds(store, expected.messageIds);
    }));

  it('deduplicates every recorded append made again, resumes the open session, and appends on from the old heads', () =>
    withStore(async (store) => {
      const { ref, sessionId, expiresAt } = expected.session;
      // The lease is still held: a new session cannot open, the recorded one resumes.
      await expect(store.open(ref)).rejects.toMatchObject({ code: 'OPEN_FAILED' });
      const session = await store.resume(ref, sessionId);
      expect(session.sessionId).toBe(sessionId);
      expect(session.expiresAt).toBeGreaterThanOrEqual(expiresAt);
      await expectRetries(store, expected.appends, session);
      // Nothing was appended by the retries: the next append goes on from the old heads.
      const acc1 = expected.streams[0];
      const lastPosition = expected.logs[0].pages.at(-1).position;
      const next = await store
        .stream(acc1.ref)
        .append(
          { type: 'Deposited', data: { amount: 1 }, metadata: { messageId: 'after-migration' } },
          { expectedVersion: acc1.version },
        );
      expect(next).toMatchObject({ version: acc1.version + 1, position: lastPosition + 1 });
      expect(await store.stream(acc1.ref).versionOf('after-migration')).toBe(acc1.version + 1);
      const log = await store.readLog({ after: lastPosition });
      expect(log.events.map((e) => [e.metadata.aggregateId, e.version])).toEqual([
        [acc1.ref.id, acc1.version + 1],
      ]);
      // A message id of the old layout still clashes with a new event under another version.
      await expect(
        store
          .stream(acc1.ref)
          .append(
            { type: 'Deposited', data: { amount: 1 }, metadata: { messageId: 'open-acc-1/1' } },
            { expectedVersion: acc1.version + 1 },
          ),
      ).rejects.toMatchObject({ code: 'DUPLICATE_IDEMPOTENCY_ID' });
      await session.close();
    }));
};
