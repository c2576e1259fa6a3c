/**
 * What a store answers on the legacy data set (`scenario.ts`), in the form the fixtures record
 * it: the generators call these at commit 0f4a16c to record the previous release's answers,
 * and `checks.ts` calls the same ones on a migrated store and compares. One reading of the
 * store, then, for both sides: what is recorded is exactly what is checked.
 *
 * Like `scenario.ts`, this runs against the sources of 0f4a16c as well as today's.
 */
import {
  createSuperjsonCodec,
  type EventStore,
  type EventStream,
  type IndexName,
  type RecordedEvent,
  type Session,
  type StreamRef,
} from '../../src/index.js';
import {
  type AppendRecord,
  copy,
  DATABASES,
  INDEX_NAMES,
  type Input,
  type Json,
  SESSION_TIMEOUT_MS,
} from './scenario.js';

const codec = createSuperjsonCodec();
const same = (a: unknown, b: unknown) => codec.stringify(a) === codec.stringify(b);

/** An event named by its stream and version: `[type, id, version]` (database: the list's). */
export type EventRef = [type: string, id: string, version: number];

/**
 * Full events are kept once, in `streams[].events`; logs, queries and loads name them by
 * `EventRef`. Naming one checks first that the answer holds exactly that event.
 */
export const eventTable = (streams: readonly Json[]): ((event: RecordedEvent) => EventRef) => {
  const keyOf = (e: RecordedEvent) =>
    JSON.stringify([
      e.metadata.database,
      e.metadata.aggregateType,
      e.metadata.aggregateId,
      e.version,
    ]);
  const known = new Map<string, unknown>();
  for (const s of streams) {
    for (const e of s.events as (RecordedEvent & { confirmed?: boolean })[]) {
      const { confirmed: _, ...event } = e;
      known.set(keyOf(e), event);
    }
  }
  return (event: RecordedEvent): EventRef => {
    if (!same(known.get(keyOf(event)), event)) {
      throw new Error(`an answer holds an event unlike its stream's: ${keyOf(event)}`);
    }
    return [event.metadata.aggregateType, event.metadata.aggregateId, event.version];
  };
};

/** Each stream's version, events, snapshots and `load()`. */
export const readStreams = async (
  store: EventStore,
  refs: readonly StreamRef[],
): Promise<Json[]> => {
  const out: Json[] = [];
  for (const ref of refs) {
    const stream = store.stream(ref);
    const snapshotVersions = await stream.snapshotVersions();
    const snapshots = [];
    for (const version of snapshotVersions) snapshots.push(await stream.snapshotAt(version));
    const events = await stream.read();
    const load = await stream.load();
    const offset = load.snapshot?.version ?? 0;
    if (!same(load.events, events.slice(offset)))
      throw new Error(`load() of ${ref.id} differs from read()`);
    out.push({
      ref: stream.ref,
      version: await stream.version(),
      events,
      // load(): the latest snapshot, then the events after it (named by version).
      load: {
        snapshot: load.snapshot,
        version: load.version,
        eventVersions: load.events.map((e) => e.version),
      },
      snapshotVersions,
      snapshots,
    });
  }
  return copy(out);
};

const LOG_PAGE = 20;

/** The whole log of each database, a page of `LOG_PAGE` at a time. */
export const readLogs = async (
  store: Pick<EventStore, 'readLog'>,
  databases: readonly string[],
  refOf: (event: RecordedEvent) => EventRef,
): Promise<Json[]> => {
  const out: Json[] = [];
  for (const database of databases) {
    const pages: Json[] = [];
    let after = 0;
    for (;;) {
      const page = await store.readLog({ database, after, limit: LOG_PAGE });
      pages.push({ after, position: page.position, eventRefs: page.events.map(refOf) });
      if (page.events.length < LOG_PAGE) break;
      after = page.position;
    }
    out.push({ database, limit: LOG_PAGE, pages });
  }
  return copy(out);
};

const indexValue = (index: IndexName, event: RecordedEvent): string | undefined => {
  switch (index) {
    case 'eventType':
      return event.type;
    case 'aggregateType':
      return event.metadata.aggregateType;
    case 'user':
      return event.metadata.userId;
    case 'correlation':
      return event.metadata.correlationId;
  }
};

const QUERY_PAGE = 10;

/** Every page of a query, concatenated (cursors are not recorded: they spell index keys). */
const queryAll = async (
  store: Pick<EventStore, 'query'>,
  index: IndexName,
  value: string,
  options: Json,
): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.query(index, value, {
      ...options,
      limit: QUERY_PAGE,
      ...(cursor ? { cursor } : {}),
    });
    events.push(...page.events);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return events;
};

/** A query as recorded: in a database, by an index and value, maybe in a time window. */
export interface Question {
  readonly database: string;
  readonly index: IndexName;
  readonly value: string;
  /** Inclusive. */
  readonly since?: number;
  /** Exclusive. */
  readonly until?: number;
}

/** Each question with the events (all pages) that answer it. */
export const answerQueries = async (
  store: Pick<EventStore, 'query'>,
  questions: readonly Question[],
  refOf: (event: RecordedEvent) => EventRef,
): Promise<Json[]> => {
  const out: Json[] = [];
  for (const question of questions) {
    const { database, index, value, since, until } = question;
    const window = since === undefined ? {} : { since, until };
    const found = await queryAll(store, index, value, { database, ...window });
    out.push({ ...question, eventRefs: found.map(refOf) });
  }
  return copy(out);
};

/** For each database, index and value used: the query's events (all pages). */
export const queryEveryValue = (
  store: Pick<EventStore, 'query'>,
  eventsByDatabase: ReadonlyMap<string, readonly RecordedEvent[]>,
  refOf: (event: RecordedEvent) => EventRef,
): Promise<Json[]> => {
  const questions: Question[] = [];
  for (const [database, events] of eventsByDatabase) {
    for (const index of INDEX_NAMES) {
      const values = [...new Set(events.map((e) => indexValue(index, e)))]
        .filter((v): v is string => v !== undefined)
        .sort();
      for (const value of values) questions.push({ database, index, value });
    }
  }
  return answerQueries(store, questions, refOf);
};

/** A few queries bounded in time (`since` inclusive, `until` exclusive). */
export const windowedQueries = (
  store: Pick<EventStore, 'query'>,
  events: readonly RecordedEvent[],
  refOf: (event: RecordedEvent) => EventRef,
): Promise<Json[]> => {
  const times = events.map((e) => e.metadata.timestamp).sort((a, b) => a - b);
  const since = times[Math.floor(times.length / 4)]!;
  const until = times[Math.floor((times.length * 3) / 4)]!;
  const database = events[0]!.metadata.database;
  const questions = (
    [
      ['aggregateType', events[0]!.metadata.aggregateType],
      ['eventType', 'Deposited'],
    ] as const
  ).map(([index, value]) => ({ database, index, value, since, until }));
  return answerQueries(store, questions, refOf);
};

/** Every event's stream, message id and version: appending with that id again is a retry. */
export const messageIdsOf = (streams: readonly Json[]): Json[] =>
  streams.flatMap((s) =>
    (s.events as RecordedEvent[]).map((e) => ({
      ref: s.ref,
      messageId: e.metadata.messageId,
      version: e.version,
    })),
  );

/**
 * A recorded event as an append's input again: type, data and the metadata a caller sets
 * (message id, schema version, user, correlation, causation).
 */
const asInput = (e: RecordedEvent): Input => {
  const m = e.metadata;
  return {
    type: e.type,
    ...(e.data === undefined ? {} : { data: e.data }),
    metadata: {
      messageId: m.messageId,
      schemaVersion: m.schemaVersion,
      ...(m.userId === undefined ? {} : { userId: m.userId }),
      ...(m.correlationId === undefined ? {} : { correlationId: m.correlationId }),
      ...(m.causationId === undefined ? {} : { causationId: m.causationId }),
    },
  };
};

/**
 * Each append made, and what repeating it answered: the events of versions
 * `result.firstVersion..result.version` as inputs again (`asInput`: their message ids as
 * recorded, generated ones included) with the same options. `appends` are the ones made
 * (`takeAppends()`), or the ones a fixture recorded (the same fields, and more).
 */
export const retryAppends = async (
  store: EventStore,
  appends: readonly Pick<AppendRecord, 'ref' | 'options' | 'result' | 'throughSession'>[],
  session?: EventStream,
): Promise<Json[]> => {
  const out: Json[] = [];
  for (const made of appends) {
    // The session's stream is locked to session-less writers: its appends retry through it.
    const locked = session !== undefined && same(made.ref, session.ref);
    const handle = locked ? session : store.stream(made.ref);
    const { firstVersion, version } = made.result as { firstVersion: number; version: number };
    const recorded = await handle.read({ from: firstVersion, to: version });
    // What the retry gave (deduplicated: true), or the error it failed with.
    const retry = await handle.append(recorded.map(asInput) as never, made.options).then(
      (result) => ({ result }),
      (error: { name?: string; code?: string; message?: string }) => ({
        error: { name: error.name, code: error.code, message: error.message },
      }),
    );
    out.push({
      ref: made.ref,
      options: made.options,
      throughSession: made.throughSession,
      result: made.result,
      retryThroughSession: locked,
      retry,
    });
  }
  return copy(out);
};

/**
 * Everything the store of the data set answers (`expected.store` of legacy-v1.json,
 * `expected` of legacy-kv.json): the streams `refs` in full, the log of each database, every
 * query by each value its events hold, a few windowed ones, every message id, each append
 * made (`appends`) made again, and the open `session` that `writeStore` left.
 */
export const recordStore = async (
  store: EventStore,
  refs: readonly StreamRef[],
  appends: readonly AppendRecord[],
  session: Session,
): Promise<Json> => {
  const streams = await readStreams(store, refs);
  const refOf = eventTable(streams);
  const eventsByDatabase = new Map(
    DATABASES.map((db) => [
      db,
      streams
        .filter((s) => (s.ref as StreamRef).database === db)
        .flatMap((s) => s.events as RecordedEvent[]),
    ]),
  );
  return {
    capabilities: store.capabilities,
    databases: DATABASES,
    streams,
    logs: await readLogs(store, DATABASES, refOf),
    queries: await queryEveryValue(store, eventsByDatabase, refOf),
    windowedQueries: await windowedQueries(
      store,
      eventsByDatabase.get('default')!.filter((e) => e.type !== 'CartAbandoned'),
      refOf,
    ),
    messageIds: messageIdsOf(streams),
    appends: await retryAppends(store, appends, session),
    session: {
      ref: session.ref,
      sessionId: session.sessionId,
      expiresAt: session.expiresAt,
      timeoutMs: SESSION_TIMEOUT_MS,
    },
  };
};
