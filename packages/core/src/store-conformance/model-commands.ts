import fc, { type AsyncCommand } from 'fast-check';
import { expect } from 'vitest';
import {
  isDuplicateIdempotencyIdError,
  isIdempotencyIdNotFoundError,
  isSnapshotVersionNotFoundError,
  isVersionMismatchError,
  isVersionNotFoundError,
} from '../errors.js';
import type { EventStore } from '../store.js';
import type {
  AppendResult,
  EventInput,
  ExpectedVersion,
  ReadOptions,
  RecordedEvent,
} from '../types.js';
import { type BankEvent, deposit, failure, REF } from './harness.js';

/** The streams the commands touch: two of one database, so the global log interleaves them. */
export const STREAMS = [REF, { type: REF.type, id: 'b' }] as const;

interface EventModel {
  readonly amount: number;
  /** Set when the caller chose the id (generated ids are not predicted). */
  readonly messageId: string | undefined;
  readonly position: number;
}

/** An append the commands may retry: its events (with their ids) and what it expected. */
interface AppendRecord {
  readonly events: readonly EventInput<BankEvent>[];
  readonly expected: ExpectedVersion;
  /** What the store answered when the append applied; undefined while it has not. */
  result: AppendResult | undefined;
}

interface StreamModel {
  readonly events: EventModel[];
  readonly appends: AppendRecord[];
  readonly snapshots: Map<number, number>;
}

export interface Model {
  readonly streams: readonly StreamModel[];
  /** The global log's last position. */
  position: number;
  /** Counter for fresh message ids. */
  nextId: number;
  /** The store keeps the global log: positions are checked, readLog is commanded. */
  readonly readLog: boolean;
}

export interface Real {
  readonly store: EventStore<BankEvent>;
}

export const emptyModel = (readLog: boolean): Model => ({
  streams: STREAMS.map(() => ({ events: [], appends: [], snapshots: new Map() })),
  position: 0,
  nextId: 0,
  readLog,
});

type Cmd = AsyncCommand<Model, Real>;

const matches = (expected: ExpectedVersion, current: number): boolean =>
  expected === 'any' ||
  (expected === 'exists' ? current > 0 : (expected === 'no-stream' ? 0 : expected) === current);

const amountOf = (e: RecordedEvent<BankEvent>): number =>
  e.type === 'Deposited' ? e.data.amount : Number.NaN;

/** What the model says a stream read returns, in the shape reads are compared in. */
const view = (model: Model, events: readonly { version: number; event: EventModel }[]) =>
  events.map(({ version, event }) => ({
    version,
    amount: event.amount,
    ...(event.messageId === undefined ? {} : { messageId: event.messageId }),
    ...(model.readLog ? { position: event.position } : {}),
  }));

const seen = (model: Model, events: readonly RecordedEvent<BankEvent>[], explicit: Set<string>) =>
  events.map((e) => ({
    version: e.version,
    amount: amountOf(e),
    ...(explicit.has(e.metadata.messageId) ? { messageId: e.metadata.messageId } : {}),
    ...(model.readLog ? { position: e.position } : {}),
  }));

const explicitIds = (model: Model): Set<string> =>
  new Set(
    model.streams.flatMap((s) => s.events.flatMap((e) => (e.messageId ? [e.messageId] : []))),
  );

/** Applies an append the store accepted to the model; returns the result it must have given. */
const applyAppend = (
  model: Model,
  stream: StreamModel,
  events: readonly EventInput<BankEvent>[],
): AppendResult => {
  const firstVersion = stream.events.length + 1;
  for (const event of events) {
    model.position += 1;
    stream.events.push({
      amount: (event as { data: { amount: number } }).data.amount,
      messageId: event.metadata?.messageId,
      position: model.position,
    });
  }
  const version = stream.events.length;
  return model.readLog
    ? { version, firstVersion, deduplicated: false, position: model.position }
    : { version, firstVersion, deduplicated: false };
};

/** Sends an append and checks the outcome against the model, which it then updates. */
const checkedAppend = async (
  model: Model,
  real: Real,
  s: number,
  events: readonly EventInput<BankEvent>[],
  expected: ExpectedVersion,
): Promise<AppendResult | undefined> => {
  const stream = model.streams[s]!;
  const current = stream.events.length;
  const handle = real.store.stream(STREAMS[s]!);
  if (matches(expected, current)) {
    const result = await handle.append(events, { expectedVersion: expected });
    // Without a global log to read, a position is not part of the contract (a store may
    // still report one, e.g. of a log kept per stream).
    const { position, ...rest } = result;
    expect(model.readLog ? result : rest).toEqual(applyAppend(model, stream, events));
    return result;
  }
  const error = await failure(handle.append(events, { expectedVersion: expected }));
  expect(isVersionMismatchError(error), String(error)).toBe(true);
  expect(error).toMatchObject({ expected, actual: current });
  return undefined;
};

export class AppendCommand implements Cmd {
  constructor(
    readonly s: number,
    readonly amounts: readonly number[],
    readonly expectation: 'any' | 'no-stream' | 'exists' | number,
    readonly withIds: boolean,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const stream = model.streams[this.s]!;
    const expected: ExpectedVersion =
      typeof this.expectation === 'number'
        ? Math.max(0, stream.events.length + this.expectation)
        : this.expectation;
    const events = this.amounts.map((amount) =>
      this.withIds ? deposit(amount, { messageId: `m-${model.nextId++}` }) : deposit(amount),
    );
    const result = await checkedAppend(model, real, this.s, events, expected);
    if (this.withIds) stream.appends.push({ events, expected, result });
  }
  toString = () =>
    `append(${this.s}, [${this.amounts}], ${JSON.stringify(this.expectation)}, ${this.withIds ? 'ids' : 'no ids'})`;
}

/** Sends an earlier append (with explicit ids) again, exactly as it was. */
export class RetryCommand implements Cmd {
  constructor(
    readonly s: number,
    readonly pick: number,
  ) {}
  check = (model: Readonly<Model>) => model.streams[this.s]!.appends.length > 0;
  async run(model: Model, real: Real) {
    const stream = model.streams[this.s]!;
    const record = stream.appends[this.pick % stream.appends.length]!;
    if (record.result === undefined) {
      // Never applied: the retry is a first attempt.
      record.result = await checkedAppend(model, real, this.s, record.events, record.expected);
      return;
    }
    const retry = await real.store
      .stream(STREAMS[this.s]!)
      .append(record.events, { expectedVersion: record.expected });
    expect(retry).toEqual({ ...record.result, deduplicated: true });
  }
  toString = () => `retry(${this.s}, #${this.pick})`;
}

/** A new append that reuses a message id of an applied one, after a fresh id. */
export class ClashCommand implements Cmd {
  constructor(
    readonly s: number,
    readonly pick: number,
  ) {}
  check = (model: Readonly<Model>) =>
    model.streams[this.s]!.events.some((e) => e.messageId !== undefined);
  async run(model: Model, real: Real) {
    const stream = model.streams[this.s]!;
    const used = stream.events.flatMap((e, i) => (e.messageId ? [[e.messageId, i + 1]] : []));
    const [messageId, existingVersion] = used[this.pick % used.length]! as [string, number];
    const error = await failure(
      real.store
        .stream(STREAMS[this.s]!)
        .append([deposit(1, { messageId: `fresh-${model.nextId++}` }), deposit(2, { messageId })]),
    );
    expect(isDuplicateIdempotencyIdError(error), String(error)).toBe(true);
    expect(error).toMatchObject({ messageId, existingVersion });
  }
  toString = () => `clash(${this.s}, #${this.pick})`;
}

export class ReadCommand implements Cmd {
  constructor(
    readonly s: number,
    readonly options: ReadOptions,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const { from = 1, to, direction = 'forward', limit } = this.options;
    const all = model.streams[this.s]!.events.map((event, i) => ({ version: i + 1, event }));
    let slice = all.filter((e) => e.version >= from && (to === undefined || e.version <= to));
    if (direction === 'backward') slice = slice.reverse();
    if (limit !== undefined) slice = slice.slice(0, limit);
    const events = await real.store.stream(STREAMS[this.s]!).read(this.options);
    expect(seen(model, events, explicitIds(model))).toEqual(view(model, slice));
  }
  toString = () => `read(${this.s}, ${JSON.stringify(this.options)})`;
}

export class VersionCommand implements Cmd {
  constructor(readonly s: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    expect(await real.store.stream(STREAMS[this.s]!).version()).toBe(
      model.streams[this.s]!.events.length,
    );
  }
  toString = () => `version(${this.s})`;
}

export class VersionOfCommand implements Cmd {
  constructor(
    readonly s: number,
    readonly pick: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const ids = model.streams[this.s]!.events.flatMap((e, i) =>
      e.messageId ? [[e.messageId, i + 1] as const] : [],
    );
    const handle = real.store.stream(STREAMS[this.s]!);
    // One pick in (ids + 1) asks for an id this stream never used.
    const known = ids[this.pick % (ids.length + 1)];
    if (known) {
      expect(await handle.versionOf(known[0])).toBe(known[1]);
      return;
    }
    const other = this.pick % 2 === 0 ? 'never-used' : undefined;
    const foreign = model.streams[1 - this.s]!.events.find((e) => e.messageId)?.messageId;
    const id = other ?? foreign ?? 'never-used';
    const error = await failure(handle.versionOf(id));
    expect(isIdempotencyIdNotFoundError(error), String(error)).toBe(true);
    expect(error).toMatchObject({ messageId: id });
  }
  toString = () => `versionOf(${this.s}, #${this.pick})`;
}

export class SaveSnapshotCommand implements Cmd {
  constructor(
    readonly s: number,
    readonly back: number,
    readonly state: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const stream = model.streams[this.s]!;
    const current = stream.events.length;
    // `back` -1 is one past the head; a version below 1 becomes one past the head too.
    const version = current - this.back >= 1 ? current - this.back : current + 1;
    const handle = real.store.stream(STREAMS[this.s]!);
    if (version <= current) {
      await handle.saveSnapshot(version, this.state);
      stream.snapshots.set(version, this.state);
      return;
    }
    const error = await failure(handle.saveSnapshot(version, this.state));
    expect(isVersionNotFoundError(error), String(error)).toBe(true);
    expect(error).toMatchObject({ version, currentVersion: current });
  }
  toString = () => `saveSnapshot(${this.s}, head-${this.back}, ${this.state})`;
}

/** latestSnapshot, snapshotVersions and load, against the model. */
export class SnapshotReadCommand implements Cmd {
  constructor(readonly s: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const stream = model.streams[this.s]!;
    const handle = real.store.stream(STREAMS[this.s]!);
    const saved = [...stream.snapshots.keys()].sort((a, b) => a - b);
    expect(await handle.snapshotVersions()).toEqual(saved);
    const latest = saved.at(-1);
    const snapshot = await handle.latestSnapshot<number>();
    expect(snapshot && { version: snapshot.version, state: snapshot.state }).toEqual(
      latest === undefined ? undefined : { version: latest, state: stream.snapshots.get(latest) },
    );
    const load = await handle.load<number>();
    expect(load.snapshot?.version).toBe(latest);
    expect(load.version).toBe(stream.events.length);
    expect(load.events.map((e) => e.version)).toEqual(
      stream.events.map((_, i) => i + 1).filter((v) => v > (latest ?? 0)),
    );
  }
  toString = () => `snapshots(${this.s})`;
}

/** snapshotAt or deleteSnapshot of a version that may or may not have one. */
export class SnapshotAtCommand implements Cmd {
  constructor(
    readonly s: number,
    readonly version: number,
    readonly remove: boolean,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const stream = model.streams[this.s]!;
    const handle = real.store.stream(STREAMS[this.s]!);
    const state = stream.snapshots.get(this.version);
    if (state !== undefined) {
      if (this.remove) {
        await handle.deleteSnapshot(this.version);
        stream.snapshots.delete(this.version);
      } else {
        expect((await handle.snapshotAt<number>(this.version)).state).toBe(state);
      }
      return;
    }
    const error = await failure(
      this.remove ? handle.deleteSnapshot(this.version) : handle.snapshotAt(this.version),
    );
    expect(isSnapshotVersionNotFoundError(error), String(error)).toBe(true);
    expect(error).toMatchObject({ version: this.version });
  }
  toString = () => `${this.remove ? 'deleteSnapshot' : 'snapshotAt'}(${this.s}, ${this.version})`;
}

export class ClearSnapshotsCommand implements Cmd {
  constructor(readonly s: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const stream = model.streams[this.s]!;
    expect(await real.store.stream(STREAMS[this.s]!).clearSnapshots()).toBe(stream.snapshots.size);
    stream.snapshots.clear();
  }
  toString = () => `clearSnapshots(${this.s})`;
}

export class ReadLogCommand implements Cmd {
  constructor(
    readonly after: number,
    readonly limit: number,
  ) {}
  check = (model: Readonly<Model>) => model.readLog;
  async run(model: Model, real: Real) {
    const all = model.streams
      .flatMap((s) => s.events.map((event, i) => ({ version: i + 1, event })))
      .sort((a, b) => a.event.position - b.event.position);
    const page = all.filter((e) => e.event.position > this.after).slice(0, this.limit);
    const log = await real.store.readLog({ after: this.after, limit: this.limit });
    expect(seen(model, log.events, explicitIds(model))).toEqual(view(model, page));
    expect(log.position).toBe(page.at(-1)?.event.position ?? this.after);
  }
  toString = () => `readLog(${this.after}, ${this.limit})`;
}

const stream = fc.integer({ min: 0, max: STREAMS.length - 1 });
const pick = fc.nat({ max: 50 });

const append = fc
  .tuple(
    stream,
    fc.array(fc.integer({ min: 1, max: 999 }), { minLength: 1, maxLength: 3 }),
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(0) },
      {
        weight: 2,
        arbitrary: fc.constantFrom<'any' | 'no-stream' | 'exists'>('any', 'no-stream', 'exists'),
      },
      { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) },
    ),
    fc.boolean(),
  )
  .map(([s, amounts, expectation, withIds]) => new AppendCommand(s, amounts, expectation, withIds));
const retry = fc.tuple(stream, pick).map(([s, p]) => new RetryCommand(s, p));

/**
 * Every command; appends and retries listed more than once, so that histories grow long
 * enough for slices, snapshots and retries of older appends to matter.
 */
export const commandArbs: fc.Arbitrary<Cmd>[] = [
  append,
  append,
  append,
  retry,
  retry,
  fc.tuple(stream, pick).map(([s, p]) => new ClashCommand(s, p)),
  fc
    .tuple(
      stream,
      fc.record(
        {
          from: fc.integer({ min: 1, max: 12 }),
          to: fc.integer({ min: 12, max: 20 }),
          direction: fc.constantFrom<'forward' | 'backward'>('forward', 'backward'),
          limit: fc.integer({ min: 1, max: 6 }),
        },
        // Plain objects, as callers write them (null-prototype objects do not cross Workers RPC).
        { requiredKeys: [], noNullPrototype: true },
      ),
    )
    .map(([s, options]) => new ReadCommand(s, options)),
  stream.map((s) => new VersionCommand(s)),
  fc.tuple(stream, pick).map(([s, p]) => new VersionOfCommand(s, p)),
  fc
    .tuple(stream, fc.integer({ min: -1, max: 3 }), fc.integer({ min: 0, max: 1_000 }))
    .map(([s, back, state]) => new SaveSnapshotCommand(s, back, state)),
  stream.map((s) => new SnapshotReadCommand(s)),
  fc
    .tuple(stream, fc.integer({ min: 1, max: 12 }), fc.boolean())
    .map(([s, version, remove]) => new SnapshotAtCommand(s, version, remove)),
  stream.map((s) => new ClearSnapshotsCommand(s)),
  fc
    .tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 1, max: 8 }))
    .map(([after, limit]) => new ReadLogCommand(after, limit)),
];
