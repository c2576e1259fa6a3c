import fc, { type Arbitrary, type AsyncCommand } from 'fast-check';
import { expect } from 'vitest';
import { INDEX_NAMES, type IndexName } from '../keys.js';
import { kvGet } from '../kv/access.js';
import { kvValuesEqual } from '../kv/equal.js';
import type { Fault, KvOperation } from '../testing/faulty-kv.js';
import type { ExpectedVersion, ReadOptions } from '../types.js';
import {
  checkInvariants,
  expectedSnapshot,
  leaseKey,
  queryAll,
  readLogAll,
} from './model-invariants.js';
import {
  type Attempt,
  applyAppend,
  attempt,
  DATABASES,
  type Draft,
  draftOf,
  type EventSpec,
  type Expectation,
  expectFailure,
  expectValue,
  handleOf,
  INDEX_VALUES,
  indexed,
  isFrozen,
  isPendingOn,
  type Lease,
  leaseRefusal,
  logOf,
  type Model,
  type ModelSession,
  pickSlot,
  predictAppend,
  type Real,
  recorded,
  SESSION_TIMEOUT_MS,
  type Slot,
  type SnapshotState,
  STREAMS,
  streamOf,
  toInput,
  unusable,
  WRITERS,
  writeRefusal,
} from './model-world.js';

/**
 * The commands of the model-based tests. Each one runs an operation on the real store,
 * checks its outcome against what the model says the spec requires, updates the model
 * and, when the operation could have changed anything, re-checks every invariant.
 *
 * Commands are generated before they run and re-run while shrinking, so they hold only
 * choices (indexes, offsets), resolved against the model when they run.
 */

type Command = AsyncCommand<Model, Real>;

/** Through a held session (picked among those that exist), or session-less by a writer. */
export type Via = { readonly session: number } | { readonly writer: number };

export type ExpectedChoice = { readonly offset: number } | 'any' | 'no-stream' | 'exists';

/** Fresh message ids, a retry of an earlier append, or one id borrowed from an earlier one. */
export type IdChoice = 'fresh' | { readonly retry: number } | { readonly clash: number };

const faultText = (f: Fault | undefined): string =>
  f ? ` !${f.when}#${f.nth}${f.operations ? `[${f.operations.join('|')}]` : ''}` : '';

/** How a command shows in a counterexample: `name(args) !when#nth[operations]`. */
const show = (name: string, args: readonly string[], fault: Fault | undefined): string =>
  `${name}(${args.join(', ')})${faultText(fault)}`;

const viaText = (via: Via): string =>
  'session' in via ? `session#${via.session}` : `writer${via.writer}`;

/** Resolves a `Via` to a writer and stream; undefined when no session fits. */
const resolve = (m: Readonly<Model>, via: Via, st: number, fixed: boolean): Slot | undefined => {
  if ('writer' in via) return { writer: via.writer, stream: st };
  return pickSlot(m, via.session, fixed ? st : undefined);
};

const resolveExpected = (choice: ExpectedChoice, current: number): ExpectedVersion =>
  typeof choice === 'string' ? choice : Math.max(0, current + choice.offset);

const earlier = (m: Readonly<Model>, pick: number): Attempt | undefined =>
  m.attempts.length === 0 ? undefined : m.attempts[pick % m.attempts.length];

const freshId = (m: Model): string => `m${++m.nextMessage}`;

/** Appends, checks the outcome against the prediction and keeps the model in step. */
const appendAndCheck = async (
  m: Model,
  r: Real,
  slot: Slot,
  viaSession: boolean,
  drafts: readonly Draft[],
  expected: ExpectedVersion,
  fault: Fault | undefined,
): Promise<void> => {
  const st = slot.stream;
  const handle = handleOf(m, r, slot.writer, st, viaSession);
  const prediction = predictAppend(m, st, drafts, expected, handle.model);
  m.attempts.push({ stream: st, drafts });
  const outcome = await attempt(r, fault, () =>
    handle.real.append(drafts.map(toInput), { expectedVersion: expected }),
  );
  if (outcome.faulted) {
    if (prediction.kind === 'apply') {
      m.pending.set(STREAMS[st]!.database, {
        stream: st,
        drafts,
        expected,
        timestamp: prediction.timestamp,
      });
    }
  } else if (prediction.kind === 'error') {
    expectFailure(outcome, prediction.error);
  } else {
    expectValue(outcome, prediction.result);
    if (prediction.kind === 'apply') applyAppend(m, st, drafts, prediction.timestamp);
  }
  await checkInvariants(m, r);
};

export class AppendCommand implements Command {
  constructor(
    readonly via: Via,
    readonly stream: number,
    readonly events: readonly EventSpec[],
    readonly expected: ExpectedChoice,
    readonly ids: IdChoice,
    readonly fault: Fault | undefined,
  ) {}

  private retried(m: Readonly<Model>): Attempt | undefined {
    return typeof this.ids === 'object' && 'retry' in this.ids
      ? earlier(m, this.ids.retry)
      : undefined;
  }

  private slot(m: Readonly<Model>): Slot | undefined {
    const retried = this.retried(m);
    return resolve(m, this.via, retried?.stream ?? this.stream, retried !== undefined);
  }

  check(m: Readonly<Model>): boolean {
    const slot = this.slot(m);
    return slot !== undefined && !isFrozen(m, slot.stream);
  }

  async run(m: Model, r: Real): Promise<void> {
    const slot = this.slot(m)!;
    const retried = this.retried(m);
    let drafts = retried?.drafts ?? this.events.map((spec) => draftOf(spec, freshId(m)));
    const borrowed =
      typeof this.ids === 'object' && 'clash' in this.ids ? earlier(m, this.ids.clash) : undefined;
    const [first, ...rest] = drafts;
    if (borrowed && first) {
      const id = borrowed.drafts[0]!.meta.messageId;
      drafts = [{ ...first, meta: { ...first.meta, messageId: id } }, ...rest];
    }
    const expected = resolveExpected(this.expected, streamOf(m, slot.stream).events.length);
    await appendAndCheck(m, r, slot, 'session' in this.via, drafts, expected, this.fault);
  }

  toString(): string {
    const ids = typeof this.ids === 'string' ? 'fresh' : JSON.stringify(this.ids);
    const kinds = this.events.map((e) => e.kind).join('');
    const expected = JSON.stringify(this.expected);
    return show('append', [viaText(this.via), `s${this.stream}`, kinds, expected, ids], this.fault);
  }
}

/**
 * Retries the append of unknown outcome with the same message ids and expected version.
 * Either it applied back then, and the retry must be a no-op returning its versions, or
 * it did not, and the retry applies it now; anything else fails.
 */
export const retryPending = async (
  m: Model,
  r: Real,
  db: string,
  slot: Slot,
  viaSession: boolean,
): Promise<void> => {
  const p = m.pending.get(db)!;
  const handle = handleOf(m, r, slot.writer, p.stream, viaSession);
  const outcome = await attempt(r, undefined, () =>
    handle.real.append(p.drafts.map(toInput), { expectedVersion: p.expected }),
  );
  const refusal = writeRefusal(m, streamOf(m, p.stream), handle.model);
  if (refusal) {
    expectFailure(outcome, refusal);
    return;
  }
  m.pending.delete(db);
  const applied = outcome.ok && outcome.value.deduplicated;
  if (applied) applyAppend(m, p.stream, p.drafts, p.timestamp);
  const prediction = predictAppend(m, p.stream, p.drafts, p.expected, handle.model);
  expect(prediction.kind).toBe(applied ? 'dedup' : 'apply');
  if (prediction.kind === 'error') return;
  expectValue(outcome, prediction.result);
  if (prediction.kind === 'apply') applyAppend(m, p.stream, p.drafts, prediction.timestamp);
  await checkInvariants(m, r);
};

export class RetryPendingCommand implements Command {
  constructor(
    readonly database: number,
    readonly via: Via,
  ) {}

  private slot(m: Readonly<Model>): Slot | undefined {
    const p = m.pending.get(DATABASES[this.database]!);
    return p ? resolve(m, this.via, p.stream, true) : undefined;
  }

  check(m: Readonly<Model>): boolean {
    return this.slot(m) !== undefined;
  }

  async run(m: Model, r: Real): Promise<void> {
    await retryPending(m, r, DATABASES[this.database]!, this.slot(m)!, 'session' in this.via);
  }

  toString(): string {
    return `retryPending(db${this.database}, ${viaText(this.via)})`;
  }
}

/** Settles every append of unknown outcome: waits out any lease, then retries it. */
export const settlePending = async (m: Model, r: Real): Promise<void> => {
  for (const db of DATABASES) {
    const p = m.pending.get(db);
    if (!p) continue;
    const lease = streamOf(m, p.stream).lease;
    if (lease && lease.expiresAt > m.now) {
      r.clock.advance(lease.expiresAt - m.now);
      m.now = lease.expiresAt;
    }
    await retryPending(m, r, db, { writer: 0, stream: p.stream }, false);
    expect(m.pending.has(db)).toBe(false);
  }
};

/** A command on one stream, which is not touched while an append on it is pending. */
abstract class StreamCommand implements Command {
  constructor(
    readonly via: Via,
    readonly stream: number,
    readonly fault: Fault | undefined,
  ) {}

  protected slot(m: Readonly<Model>): Slot | undefined {
    return resolve(m, this.via, this.stream, false);
  }

  check(m: Readonly<Model>): boolean {
    const slot = this.slot(m);
    return slot !== undefined && !isPendingOn(m, slot.stream);
  }

  abstract run(m: Model, r: Real): Promise<void>;
  abstract toString(): string;
}

export class ReadCommand extends StreamCommand {
  constructor(
    via: Via,
    stream: number,
    readonly from: number | undefined,
    readonly span: number | undefined,
    readonly backward: boolean,
    readonly limit: number | undefined,
    fault: Fault | undefined,
  ) {
    super(via, stream, fault);
  }

  async run(m: Model, r: Real): Promise<void> {
    const slot = this.slot(m)!;
    const handle = handleOf(m, r, slot.writer, slot.stream, 'session' in this.via);
    const to = this.span === undefined ? undefined : (this.from ?? 1) + this.span;
    const options: ReadOptions = {
      ...(this.from === undefined ? {} : { from: this.from }),
      ...(to === undefined ? {} : { to }),
      ...(this.limit === undefined ? {} : { limit: this.limit }),
      direction: this.backward ? 'backward' : 'forward',
    };
    const outcome = await attempt(r, this.fault, () => handle.real.read(options));
    if (outcome.faulted) return;
    const refusal = unusable(m, handle.model);
    if (refusal) return expectFailure(outcome, refusal);
    const stream = streamOf(m, slot.stream);
    const head = stream.events.length;
    const first = this.from ?? 1;
    const last = Math.min(to ?? head, head);
    let slice = first > last ? [] : stream.events.slice(first - 1, last);
    if (this.backward) slice = slice.reverse();
    if (this.limit !== undefined) slice = slice.slice(0, this.limit);
    expectValue(
      outcome,
      slice.map((e) => recorded(stream.def, e)),
    );
  }

  toString(): string {
    const range = `${this.from ?? ''}..${this.span ?? ''}${this.backward ? ' back' : ''}`;
    const limit = `limit ${this.limit ?? '-'}`;
    return show('read', [viaText(this.via), `s${this.stream}`, range, limit], this.fault);
  }
}

export class VersionCommand extends StreamCommand {
  constructor(
    via: Via,
    stream: number,
    readonly lookup: number | undefined,
    fault: Fault | undefined,
  ) {
    super(via, stream, fault);
  }

  async run(m: Model, r: Real): Promise<void> {
    const slot = this.slot(m)!;
    const handle = handleOf(m, r, slot.writer, slot.stream, 'session' in this.via);
    const stream = streamOf(m, slot.stream);
    const refusal = unusable(m, handle.model);
    const outcome = await attempt(r, this.fault, () => handle.real.version());
    if (outcome.faulted) {
      // Nothing to check: a read that failed changed nothing.
    } else if (refusal) expectFailure(outcome, refusal);
    else expectValue(outcome, stream.events.length);

    const source = this.lookup === undefined ? undefined : earlier(m, this.lookup);
    if (!source) return;
    const id = source.drafts[0]!.meta.messageId;
    const found = await attempt(r, undefined, () => handle.real.versionOf(id));
    const version = stream.ids.get(id);
    if (refusal) expectFailure(found, refusal);
    else if (version === undefined) {
      expectFailure(found, { code: 'IDEMPOTENCY_ID_NOT_FOUND', messageId: id });
    } else expectValue(found, version);
  }

  toString(): string {
    const lookup = `lookup ${this.lookup ?? '-'}`;
    return show('version', [viaText(this.via), `s${this.stream}`, lookup], this.fault);
  }
}

export class LoadCommand extends StreamCommand {
  async run(m: Model, r: Real): Promise<void> {
    const slot = this.slot(m)!;
    const handle = handleOf(m, r, slot.writer, slot.stream, 'session' in this.via);
    const outcome = await attempt(r, this.fault, () => handle.real.load<SnapshotState>());
    if (outcome.faulted) return;
    const refusal = unusable(m, handle.model);
    if (refusal) return expectFailure(outcome, refusal);
    const stream = streamOf(m, slot.stream);
    const latest = [...stream.snapshots.keys()].sort((a, b) => a - b).at(-1);
    expectValue(outcome, {
      snapshot: latest === undefined ? undefined : expectedSnapshot(m, slot.stream, latest),
      events: stream.events.slice(latest ?? 0).map((e) => recorded(stream.def, e)),
      version: stream.events.length,
    });
  }

  toString(): string {
    return show('load', [viaText(this.via), `s${this.stream}`], this.fault);
  }
}

export class SaveSnapshotCommand extends StreamCommand {
  constructor(
    via: Via,
    stream: number,
    /** How far behind the head to save (-1: one past the head, which must fail). */
    readonly back: number,
    fault: Fault | undefined,
  ) {
    super(via, stream, fault);
  }

  async run(m: Model, r: Real): Promise<void> {
    const slot = this.slot(m)!;
    const handle = handleOf(m, r, slot.writer, slot.stream, 'session' in this.via);
    const stream = streamOf(m, slot.stream);
    const current = stream.events.length;
    const version = this.back < 0 ? current + 1 : Math.max(1, current - this.back);
    const state: SnapshotState = { tag: ++m.nextTag, at: new Date(m.now) };
    const refusal: Expectation | undefined =
      writeRefusal(m, stream, handle.model) ??
      (version > current
        ? { code: 'VERSION_NOT_FOUND', version, currentVersion: current }
        : undefined);
    const outcome = await attempt(r, this.fault, () => handle.real.saveSnapshot(version, state));
    const saved = { state, takenAt: m.now };
    if (outcome.faulted) {
      // Saved or not, either is allowed: find out which and check the rest agrees.
      const observer = r.observer.stream(stream.def);
      const seen = (await observer.snapshotVersions()).includes(version)
        ? await observer.snapshotAt<SnapshotState>(version)
        : undefined;
      if (!refusal && seen?.state.tag === state.tag) stream.snapshots.set(version, saved);
    } else if (refusal) {
      expectFailure(outcome, refusal);
    } else {
      expectValue(outcome, undefined);
      stream.snapshots.set(version, saved);
    }
    await checkInvariants(m, r);
  }

  toString(): string {
    const back = `back ${this.back}`;
    return show('saveSnapshot', [viaText(this.via), `s${this.stream}`, back], this.fault);
  }
}

export class ClearSnapshotsCommand extends StreamCommand {
  async run(m: Model, r: Real): Promise<void> {
    const slot = this.slot(m)!;
    const handle = handleOf(m, r, slot.writer, slot.stream, 'session' in this.via);
    const stream = streamOf(m, slot.stream);
    const count = stream.snapshots.size;
    // Nothing to delete means nothing to write, so the lease is not consulted.
    const refusal =
      unusable(m, handle.model) ??
      (count === 0 ? undefined : leaseRefusal(m, stream, handle.model));
    const outcome = await attempt(r, this.fault, () => handle.real.clearSnapshots());
    if (outcome.faulted) {
      const left = await r.observer.stream(stream.def).snapshotVersions();
      if (!refusal && left.length === 0) stream.snapshots.clear();
    } else if (refusal) {
      expectFailure(outcome, refusal);
    } else {
      expectValue(outcome, count);
      stream.snapshots.clear();
    }
    await checkInvariants(m, r);
  }

  toString(): string {
    return show('clearSnapshots', [viaText(this.via), `s${this.stream}`], this.fault);
  }
}

const rawLease = async (r: Real, st: number): Promise<Lease | undefined> => {
  const [value] = await kvGet(r.inner, [leaseKey(STREAMS[st]!)]);
  return value as Lease | undefined;
};

export class OpenCommand implements Command {
  constructor(
    readonly writer: number,
    readonly stream: number,
    /** The open timeout: how long to wait for a held lease (0: fail at once). */
    readonly waitMs: number,
    readonly fault: Fault | undefined,
  ) {}

  check(): boolean {
    return true;
  }

  async run(m: Model, r: Real): Promise<void> {
    const st = this.stream;
    const stream = streamOf(m, st);
    const sessionId = `w${this.writer}-${++m.generated[this.writer]!}`;
    const t0 = m.now;
    const held = stream.lease;
    const live = held !== undefined && held.expiresAt > t0;
    // A live lease is waited out when it ends within the open timeout.
    const takesAt = !live
      ? t0
      : this.waitMs > 0 && held.expiresAt - t0 <= this.waitMs
        ? held.expiresAt
        : undefined;
    const options = this.waitMs > 0 ? { openTimeoutMs: this.waitMs } : {};
    const outcome = await attempt(r, this.fault, () =>
      r.stores[this.writer]!.open(STREAMS[st]!, options),
    );
    if (outcome.faulted) {
      const now = r.clock.now();
      expect(now).toBeGreaterThanOrEqual(t0);
      expect(now).toBeLessThanOrEqual(t0 + this.waitMs);
      m.now = now;
      // The lease may have been taken with the acknowledgement lost: it is then held by
      // a session nobody has a handle to, until it expires.
      const seen = await rawLease(r, st);
      if (seen?.sessionId === sessionId) {
        expect(seen).toEqual({
          sessionId,
          expiresAt: now + SESSION_TIMEOUT_MS,
          timeoutMs: SESSION_TIMEOUT_MS,
        });
        stream.lease = seen;
      }
    } else if (takesAt === undefined) {
      m.now = t0 + this.waitMs;
      expectFailure(outcome, {
        code: 'OPEN_FAILED',
        openTimeoutMs: this.waitMs,
        lockedUntil: held?.expiresAt,
        holder: held?.sessionId,
      });
    } else {
      m.now = takesAt;
      if (!outcome.ok) throw new Error(`open failed: ${String(outcome.error)}`);
      const session: ModelSession = {
        sessionId,
        stream: st,
        expiresAt: takesAt + SESSION_TIMEOUT_MS,
        closed: false,
        released: false,
      };
      const previous = m.sessions[this.writer]![st];
      if (previous) {
        m.retired.push(previous);
        r.retired.push(r.sessions[this.writer]![st]!);
      }
      m.sessions[this.writer]![st] = session;
      r.sessions[this.writer]![st] = outcome.value;
      stream.lease = { sessionId, expiresAt: session.expiresAt, timeoutMs: SESSION_TIMEOUT_MS };
    }
    await checkInvariants(m, r);
  }

  toString(): string {
    const wait = `wait ${this.waitMs}`;
    return show('open', [`writer${this.writer}`, `s${this.stream}`, wait], this.fault);
  }
}

/** Close or renew a held session. */
abstract class SessionCommand implements Command {
  constructor(
    readonly pick: number,
    readonly fault: Fault | undefined,
  ) {}

  check(m: Readonly<Model>): boolean {
    return pickSlot(m, this.pick) !== undefined;
  }

  abstract run(m: Model, r: Real): Promise<void>;
  abstract toString(): string;
}

export class CloseCommand extends SessionCommand {
  async run(m: Model, r: Real): Promise<void> {
    const { writer, stream: st } = pickSlot(m, this.pick)!;
    const s = m.sessions[writer]![st]!;
    const stream = streamOf(m, st);
    const releases = !s.released && stream.lease?.sessionId === s.sessionId;
    const outcome = await attempt(r, this.fault, () => r.sessions[writer]![st]!.close());
    // Closed from the first call, whatever storage does: a closed handle never writes
    // again. Releasing the lease is what a failed close leaves to the next one.
    s.closed = true;
    if (outcome.faulted) {
      if (releases && (await rawLease(r, st)) === undefined) stream.lease = undefined;
    } else {
      expectValue(outcome, undefined);
      s.released = true;
      if (releases) stream.lease = undefined;
    }
    await checkInvariants(m, r);
  }

  toString(): string {
    return `close(session#${this.pick})${faultText(this.fault)}`;
  }
}

export class RenewCommand extends SessionCommand {
  async run(m: Model, r: Real): Promise<void> {
    const { writer, stream: st } = pickSlot(m, this.pick)!;
    const s = m.sessions[writer]![st]!;
    const stream = streamOf(m, st);
    const refusal = writeRefusal(m, stream, s);
    const renewed: Lease = {
      sessionId: s.sessionId,
      expiresAt: m.now + SESSION_TIMEOUT_MS,
      timeoutMs: SESSION_TIMEOUT_MS,
    };
    const outcome = await attempt(r, this.fault, () => r.sessions[writer]![st]!.renew());
    if (outcome.faulted) {
      // The lease may have been extended; if it was, the handle learns it (it reads the
      // lease back after a failed commit), and keeps its old expiry otherwise.
      const seen = await rawLease(r, st);
      if (!refusal && kvValuesEqual(seen, renewed)) {
        stream.lease = renewed;
        s.expiresAt = renewed.expiresAt;
      }
    } else if (refusal) {
      expectFailure(outcome, refusal);
    } else {
      expectValue(outcome, undefined);
      s.expiresAt = renewed.expiresAt;
      stream.lease = renewed;
    }
    await checkInvariants(m, r);
  }

  toString(): string {
    return `renew(session#${this.pick})${faultText(this.fault)}`;
  }
}

export class AdvanceCommand implements Command {
  constructor(readonly ms: number) {}

  check(): boolean {
    return true;
  }

  async run(m: Model, r: Real): Promise<void> {
    m.now += this.ms;
    r.clock.advance(this.ms);
  }

  toString(): string {
    return `advance(${this.ms})`;
  }
}

export type RetiredOperation = 'append' | 'snapshot' | 'renew' | 'read';

/** Uses a session handle its writer replaced: closed or expired, it must never work. */
export class RetiredCommand implements Command {
  constructor(
    readonly pick: number,
    readonly operation: RetiredOperation,
  ) {}

  private session(m: Readonly<Model>): ModelSession | undefined {
    return m.retired.length === 0 ? undefined : m.retired[this.pick % m.retired.length];
  }

  check(m: Readonly<Model>): boolean {
    const s = this.session(m);
    return s !== undefined && !isFrozen(m, s.stream);
  }

  async run(m: Model, r: Real): Promise<void> {
    const i = this.pick % m.retired.length;
    const s = m.retired[i]!;
    const handle = r.retired[i]!;
    const stream = streamOf(m, s.stream);
    const refusal = this.operation === 'read' ? unusable(m, s) : writeRefusal(m, stream, s);
    if (!refusal) throw new Error(`the model lets retired session ${s.sessionId} work`);
    const state: SnapshotState = { tag: ++m.nextTag, at: new Date(m.now) };
    const drafts = [
      draftOf({ kind: 1, amount: 1, user: 0, correlation: 0, caused: false }, freshId(m)),
    ];
    if (this.operation === 'append') m.attempts.push({ stream: s.stream, drafts });
    const outcome = await attempt(r, undefined, (): Promise<unknown> => {
      switch (this.operation) {
        case 'append':
          return handle.append(drafts.map(toInput), { expectedVersion: 'any' });
        case 'snapshot':
          return handle.saveSnapshot(Math.max(1, stream.events.length), state);
        case 'renew':
          return handle.renew();
        case 'read':
          return handle.read();
      }
    });
    expectFailure(outcome, refusal);
    await checkInvariants(m, r);
  }

  toString(): string {
    return `retired(#${this.pick}, ${this.operation})`;
  }
}

/** Reads of a whole database: blocked while an append there has an unknown outcome. */
abstract class DatabaseRead implements Command {
  constructor(
    readonly database: number,
    readonly fault: Fault | undefined,
  ) {}

  check(m: Readonly<Model>): boolean {
    return !m.pending.has(DATABASES[this.database]!);
  }

  abstract run(m: Model, r: Real): Promise<void>;
  abstract toString(): string;
}

export class QueryCommand extends DatabaseRead {
  constructor(
    database: number,
    readonly index: IndexName,
    readonly value: number,
    /** Window offsets from the start of the run, in ms. */
    readonly since: number | undefined,
    readonly length: number | undefined,
    readonly limit: number,
    fault: Fault | undefined,
  ) {
    super(database, fault);
  }

  async run(m: Model, r: Real): Promise<void> {
    const db = DATABASES[this.database]!;
    const values = INDEX_VALUES[this.index];
    const value = values[this.value % values.length]!;
    const since = this.since === undefined ? undefined : m.start + this.since;
    const until = this.length === undefined ? undefined : (since ?? m.start) + this.length;
    const window = {
      limit: this.limit,
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
    };
    const outcome = await attempt(r, this.fault, () =>
      queryAll(r.stores[0]!, db, this.index, value, window),
    );
    if (outcome.faulted) return;
    expectValue(outcome, indexed(m, db, this.index, value, since, until));
  }

  toString(): string {
    const value = `${this.index}#${this.value}`;
    const window = `${this.since ?? '-'}+${this.length ?? '-'}`;
    const args = [`db${this.database}`, value, window, `limit ${this.limit}`];
    return show('query', args, this.fault);
  }
}

export class ReadLogCommand extends DatabaseRead {
  constructor(
    database: number,
    readonly after: number,
    readonly limit: number,
    fault: Fault | undefined,
  ) {
    super(database, fault);
  }

  async run(m: Model, r: Real): Promise<void> {
    const db = DATABASES[this.database]!;
    const outcome = await attempt(r, this.fault, () =>
      readLogAll(r.stores[0]!, db, this.after, this.limit),
    );
    if (outcome.faulted) return;
    const log = logOf(m, db).slice(this.after);
    expectValue(
      outcome,
      log.map((entry) =>
        recorded(
          streamOf(m, entry.stream).def,
          streamOf(m, entry.stream).events[entry.version - 1]!,
        ),
      ),
    );
  }

  toString(): string {
    const args = [`db${this.database}`, `after ${this.after}`, `limit ${this.limit}`];
    return show('readLog', args, this.fault);
  }
}

// --- Generators --------------------------------------------------------------------

const writerArb = fc.nat({ max: WRITERS - 1 });
const streamArb = fc.nat({ max: STREAMS.length - 1 });
/** Session-less twice as often as through a session: sessions are few and often gone. */
const viaArb: Arbitrary<Via> = fc.oneof(
  { arbitrary: writerArb.map((writer) => ({ writer })), weight: 2 },
  { arbitrary: fc.nat({ max: 11 }).map((session) => ({ session })), weight: 1 },
);

const operationsArb: Arbitrary<readonly KvOperation[] | undefined> = fc.constantFrom(
  undefined,
  ['commit'] as const,
  ['get', 'scan'] as const,
);

/**
 * Most operations make two to four KV calls, so a fault mostly lands on one of the first
 * few; the later ones reach into long sequential (non-atomic) writes.
 */
const nthArb = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 2 }), weight: 3 },
  { arbitrary: fc.integer({ min: 3, max: 12 }), weight: 1 },
);

/**
 * A storage fault on about one command in four: on the n-th KV operation (of a kind, or
 * any), before it applies or after (the caller then cannot tell whether it did).
 */
export const faultArb: Arbitrary<Fault | undefined> = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 3 },
  {
    arbitrary: fc
      .tuple(nthArb, fc.constantFrom('before', 'after'), operationsArb)
      .map(
        ([nth, when, operations]): Fault =>
          operations ? { nth, when, operations } : { nth, when },
      ),
    weight: 1,
  },
);

const eventSpecArb: Arbitrary<EventSpec> = fc.record({
  kind: fc.nat({ max: 3 }),
  amount: fc.integer({ min: 1, max: 999 }),
  user: fc.option(fc.nat({ max: 1 }), { nil: undefined }),
  correlation: fc.option(fc.nat({ max: 1 }), { nil: undefined }),
  caused: fc.boolean(),
});

/** Mostly the right version, often a wrong one (stale or ahead), or a symbolic one. */
const expectedArb: Arbitrary<ExpectedChoice> = fc.oneof(
  { arbitrary: fc.constant({ offset: 0 }), weight: 4 },
  {
    arbitrary: fc
      .integer({ min: -3, max: 1 })
      .map((offset) => ({ offset: offset >= 0 ? offset + 1 : offset })),
    weight: 2,
  },
  { arbitrary: fc.constantFrom('any', 'no-stream', 'exists'), weight: 3 },
);

const idsArb: Arbitrary<IdChoice> = fc.oneof(
  { arbitrary: fc.constant('fresh' as const), weight: 6 },
  { arbitrary: fc.nat().map((retry) => ({ retry })), weight: 2 },
  { arbitrary: fc.nat().map((clash) => ({ clash })), weight: 1 },
);

const appendArb = fc
  .tuple(
    viaArb,
    streamArb,
    fc.array(eventSpecArb, { minLength: 1, maxLength: 3 }),
    expectedArb,
    idsArb,
    faultArb,
  )
  .map((args) => new AppendCommand(...args));

const optionalNat = (max: number) => fc.option(fc.nat({ max }), { nil: undefined });

const times = <T>(n: number, arb: Arbitrary<T>): Arbitrary<T>[] =>
  Array.from({ length: n }, () => arb);

/**
 * Every command kind, weighted by repetition: appends dominate (they are what every
 * invariant is about); session commands and clock moves come often enough that sessions
 * are taken, used, renewed, expired, closed and taken over within one run.
 */
export const commandArbs: Arbitrary<Command>[] = [
  ...times(6, appendArb),
  fc
    .tuple(fc.nat({ max: DATABASES.length - 1 }), viaArb)
    .map(([db, via]) => new RetryPendingCommand(db, via)),
  fc
    .tuple(
      viaArb,
      streamArb,
      fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
      optionalNat(6),
      fc.boolean(),
      fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      faultArb,
    )
    .map((args) => new ReadCommand(...args)),
  fc
    .tuple(viaArb, streamArb, fc.option(fc.nat(), { nil: undefined }), faultArb)
    .map((args) => new VersionCommand(...args)),
  fc
    .tuple(viaArb, streamArb, fc.integer({ min: -1, max: 3 }), faultArb)
    .map((args) => new SaveSnapshotCommand(...args)),
  fc.tuple(viaArb, streamArb, faultArb).map((args) => new LoadCommand(...args)),
  fc.tuple(viaArb, streamArb, faultArb).map((args) => new ClearSnapshotsCommand(...args)),
  ...times(
    2,
    fc
      .tuple(writerArb, streamArb, fc.constantFrom(0, 0, 300, 1_500), faultArb)
      .map((args) => new OpenCommand(...args)),
  ),
  ...times(
    2,
    fc.tuple(fc.nat({ max: 11 }), faultArb).map((args) => new CloseCommand(...args)),
  ),
  ...times(
    2,
    fc.tuple(fc.nat({ max: 11 }), faultArb).map((args) => new RenewCommand(...args)),
  ),
  ...times(
    2,
    fc
      .oneof(
        { arbitrary: fc.integer({ min: 1, max: 400 }), weight: 3 },
        { arbitrary: fc.integer({ min: 900, max: 1_500 }), weight: 1 },
      )
      .map((ms) => new AdvanceCommand(ms)),
  ),
  fc
    .tuple(fc.nat(), fc.constantFrom<RetiredOperation>('append', 'snapshot', 'renew', 'read'))
    .map(([pick, operation]) => new RetiredCommand(pick, operation)),
  fc
    .tuple(
      fc.nat({ max: DATABASES.length - 1 }),
      fc.constantFrom(...INDEX_NAMES),
      fc.nat({ max: 3 }),
      fc.option(fc.nat({ max: 4_000 }), { nil: undefined }),
      fc.option(fc.nat({ max: 4_000 }), { nil: undefined }),
      fc.integer({ min: 1, max: 4 }),
      faultArb,
    )
    .map((args) => new QueryCommand(...args)),
  fc
    .tuple(
      fc.nat({ max: DATABASES.length - 1 }),
      fc.nat({ max: 12 }),
      fc.integer({ min: 1, max: 5 }),
      faultArb,
    )
    .map((args) => new ReadLogCommand(...args)),
];
