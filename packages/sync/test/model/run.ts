import { isVersionMismatchError, type RecordedEvent, toWireJson } from '@eventkv/core';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { SYNC_PROTOCOL, type SyncRemote } from '../../src/index.js';
import {
  describeFaults,
  FAULT_KINDS,
  type FaultCounts,
  Ledger,
  noFaults,
  totalOf,
} from './ledger.js';
import { Link } from './link.js';
import { ReplicaUnderTest } from './replica.js';
import { type Scenario, type Step, scenarioArb } from './schedule.js';
import type { SyncModelTarget } from './target.js';

/**
 * The model-based sync suite. Each run: 2-4 replicas of one new database (users alike or
 * not) take a random schedule of appends, syncs, crashes, conflict settlements and faults
 * of their networks; then the network heals and they sync and settle until nothing moves.
 * Then:
 * 1. every replica holds, confirmed, exactly the edge's streams (every field of every
 *    event), with nothing pending;
 * 2. every append the app saw succeed is on the edge exactly once, unless a settlement
 *    replaced or discarded it (then it is not there at all); no message id is on the edge
 *    twice; every event on the edge was made by a replica;
 * 3. every replica's status says nothing is pending and nothing is conflicted.
 * Along the way: a late push is answered fenced or replayed and appends nothing; a sync
 * fails only when a fault hit it; after a sync only conflicted streams have pending
 * events, and what the replica holds as confirmed is a prefix of the edge's streams; an
 * append with the version the replica sees succeeds, and reads back where it says.
 */

const streamRef = (k: number) => ({ type: 'Item', id: `s${k}` });

/** Every event of the edge's database, in log order, read through a pull. */
const readEdge = async (remote: SyncRemote): Promise<RecordedEvent[]> => {
  const out: RecordedEvent[] = [];
  let cursor: { serverId: string; position: number } | undefined;
  for (let page = 0; page < 1000; page++) {
    const response = await remote.pull({
      protocol: SYNC_PROTOCOL,
      limit: 1000,
      ...(cursor === undefined ? {} : { cursor }),
    });
    if ('reset' in response) throw new Error(`the edge answered a fresh reader with a reset`);
    out.push(...response.events);
    cursor = response.cursor;
    if (!response.more) return out;
  }
  throw new Error('the edge never finished its log');
};

/** Values the data of appends carries in turn: what every side must keep as it is. */
const RICH: readonly unknown[] = [
  new Date(1_700_000_000_123),
  12_345_678_901_234_567_890n,
  new Map<unknown, unknown>([
    ['k', [1, 2]],
    [3, { deep: true }],
  ]),
  new Set(['a', 1]),
  new Uint8Array([0, 1, 254, 255]),
  'ünïcödé ✓ 😀',
  -0,
  null,
  [1, [2, [3, { four: 4 }]]],
  { $date: 'not a date', '': 'empty key' },
];

/** Plain JSON with object keys in order: the same text for equal values. */
const sortedKeys = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(sortedKeys)
    : typeof value === 'object' && value !== null
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]),
        )
      : value;

/** An event as both sides must agree on it (in wire JSON): all but its position in a log. */
const canonical = (event: RecordedEvent): string => {
  const { position: _, ...metadata } = event.metadata as RecordedEvent['metadata'] & {
    position?: number;
  };
  const { type, version, data } = event;
  return JSON.stringify(
    sortedKeys(JSON.parse(toWireJson({ type, version, data, metadata, hasData: 'data' in event }))),
  );
};

const errorText = (error: unknown): string =>
  error instanceof Error
    ? `${(error as { code?: string }).code ?? error.name}: ${error.message}`
    : String(error);

interface RunResult {
  readonly faults: FaultCounts;
  readonly seen: ReadonlyMap<string, number>;
  readonly acked: number;
  readonly dropped: number;
  readonly settled: number;
  readonly rounds: number;
}

let runs = 0;

/** One run of a schedule against the target. Throws, with the run's story, when a property fails. */
export const runScenario = async (
  target: SyncModelTarget,
  scenario: Scenario,
): Promise<RunResult> => {
  const tag = `m${++runs}x${Math.random().toString(36).slice(2, 8)}`;
  const database = `model-${tag}`;
  const ledger = new Ledger();
  const auditor = target.createEdgeRemote({ database, user: 'auditor' });
  const edgeSize = async () => (await readEdge(auditor)).length;
  const replicas = scenario.replicas.map(
    ({ user, held }, index) =>
      new ReplicaUnderTest({
        target,
        ledger,
        tag,
        index,
        user,
        held,
        link: new Link(
          `replica ${index}`,
          target.createEdgeRemote({ database, user }),
          ledger,
          edgeSize,
        ),
      }),
  );
  const pick = (n: number) => replicas[n % replicas.length] as ReplicaUnderTest;
  let ops = 0;
  let settled = 0;

  /** After a sync that succeeded, only conflicted streams may keep pending events. */
  const checkAfterSync = async (r: ReplicaUnderTest) => {
    const status = await r.store.sync.status();
    const conflicts = await r.store.sync.conflicts();
    const held = conflicts.reduce((sum, c) => sum + c.mine.length, 0);
    if (status.pending !== held || status.conflicts !== conflicts.length) {
      ledger.violation(
        `${r.name}: after a sync, ${status.pending} pending and ${status.conflicts} conflicts, but the conflicts hold ${held} events in ${conflicts.length} streams`,
      );
    }
  };

  /** At any time, what a replica holds as confirmed is a prefix of the edge's stream. */
  const checkPrefix = async (r: ReplicaUnderTest) => {
    const edge = await readEdge(auditor);
    for (let k = 0; k < scenario.streams; k++) {
      const ref = streamRef(k);
      const theirs = edge.filter((e) => e.metadata.aggregateId === ref.id).map(canonical);
      const mine = (await r.store.stream(ref).read())
        .filter((e) => e.confirmed)
        .map(({ confirmed: _, ...e }) => canonical(e as RecordedEvent));
      if (mine.some((e, i) => e !== theirs[i])) {
        ledger.violation(
          `${r.name}: confirmed events of ${ref.id} are not the edge's:\n    here: ${mine.join('\n          ')}\n    edge: ${theirs.join('\n          ')}`,
        );
      }
    }
  };

  const run = async (step: Step, t: number): Promise<void> => {
    const r = pick(step.replica);
    switch (step.kind) {
      case 'append': {
        const ref = streamRef(step.stream % scenario.streams);
        const stream = r.store.stream(ref);
        const op = ++ops;
        const own = step.ownIds || step.duringSync;
        const events = Array.from({ length: step.count }, (_, i) => {
          const metadata = {
            ...(own ? { messageId: `${tag}.a${op}.${i}` } : {}),
            ...(step.metadata ? { userId: r.user, correlationId: `${tag}.c${op}` } : {}),
          };
          if (own) ledger.issued.add(metadata.messageId as string);
          return step.bare
            ? { type: 'Ticked', metadata }
            : {
                type: 'Noted',
                data: { by: r.index, op, i, extra: RICH[(op + i) % RICH.length] },
                metadata,
              };
        });
        const expectedVersion =
          step.expected === 'seen'
            ? await stream.version()
            : step.expected === 'any'
              ? ('any' as const)
              : undefined;
        const syncing = step.duringSync
          ? r.store.sync.syncNow().then(
              () => undefined,
              (error: unknown) => error,
            )
          : undefined;
        const faultsBefore = totalOf(ledger.faults);
        let result: Awaited<ReturnType<typeof stream.append>> | undefined;
        try {
          result = await stream.append(events, {
            ...(expectedVersion === undefined ? {} : { expectedVersion }),
            command: { op, count: step.count },
          });
        } catch (error) {
          // Only a sync running beside it may move the stream under an expected version.
          if (!(step.duringSync && isVersionMismatchError(error))) {
            ledger.violation(`${r.name}: append ${op} to ${ref.id} failed: ${errorText(error)}`);
          }
          ledger.note(`${t}: ${r.name} append ${op} to ${ref.id} refused: ${errorText(error)}`);
        }
        const syncError = await syncing;
        if (syncError !== undefined) {
          ledger.note(`  (the sync beside it failed: ${errorText(syncError)})`);
          if (totalOf(ledger.faults) === faultsBefore) {
            ledger.violation(
              `${r.name}: a sync beside append ${op} failed with no fault: ${errorText(syncError)}`,
            );
          }
        }
        if (!result) return;
        let ids: string[];
        if (own) ids = events.map((e) => e.metadata.messageId as string);
        else {
          // Nothing else touched this replica since: the pending events at those versions.
          const stored = await stream.read({ from: result.firstVersion, to: result.version });
          ids = stored.map((e) => e.metadata.messageId);
          if (stored.some((e) => e.confirmed) || stored.length !== step.count) {
            ledger.violation(
              `${r.name}: append ${op} answered versions ${result.firstVersion}-${result.version}, which read ${JSON.stringify(stored)}`,
            );
          }
        }
        if (!step.duringSync && (await stream.version()) !== result.version) {
          ledger.violation(`${r.name}: append ${op} answered version ${result.version}`);
        }
        ledger.acknowledge(ids, { replica: r.index, stream: ref.id });
        r.holds.add(ref.id);
        ledger.note(
          `${t}: ${r.name} appended ${ids.join(' ')} to ${ref.id} at ${result.firstVersion}`,
        );
        return;
      }
      case 'sync': {
        const faultsBefore = totalOf(ledger.faults);
        try {
          const done = await r.store.sync.syncNow();
          ledger.note(`${t}: ${r.name} synced: pushed ${done.pushed}, pulled ${done.pulled}`);
          await checkAfterSync(r);
          await checkPrefix(r);
        } catch (error) {
          ledger.note(`${t}: ${r.name} sync failed: ${errorText(error)}`);
          if (totalOf(ledger.faults) === faultsBefore) {
            ledger.violation(`${r.name}: a sync failed with no fault: ${errorText(error)}`);
          }
        }
        return;
      }
      case 'crash': {
        ledger.fault('crash');
        if (step.during === 'idle') {
          r.restart();
          ledger.note(`${t}: ${r.name} restarted`);
        } else {
          const when = await r.crashDuringSync(step.commits);
          ledger.note(
            `${t}: ${r.name} crashed ${when === 'during' ? `during a sync, before its commit ${step.commits + 1}` : 'after a sync'}`,
          );
        }
        return;
      }
      case 'resolve': {
        const conflicts = await r.store.sync.conflicts();
        const conflict = conflicts[step.which % Math.max(1, conflicts.length)];
        if (!conflict) return;
        if (conflict.kind !== 'conflict') {
          ledger.violation(
            `${r.name}: stream ${conflict.ref.id} is ${conflict.kind}: ${JSON.stringify(conflict.error)}`,
          );
        }
        const faultsBefore = totalOf(ledger.faults);
        try {
          const { syncError } = await r.settle(conflict.ref, step.how, step);
          settled++;
          ledger.note(
            `${t}: ${r.name} settled ${conflict.ref.id} (${step.how}${step.duringSync ? ', beside a sync' : ''})`,
          );
          if (syncError !== undefined) {
            ledger.note(`  (the sync beside it failed: ${errorText(syncError)})`);
            if (totalOf(ledger.faults) === faultsBefore) {
              ledger.violation(
                `${r.name}: a sync beside a settlement failed with no fault: ${errorText(syncError)}`,
              );
            }
          }
        } catch (error) {
          ledger.violation(`${r.name}: settling ${conflict.ref.id} failed: ${errorText(error)}`);
        }
        return;
      }
      case 'fault':
        r.link.arm(step.fault, step.on, step.pick);
        ledger.note(`${t}: ${r.name} will see ${step.fault} on ${step.on}`);
        return;
      case 'partition':
        r.link.partition(step.steps);
        ledger.note(`${t}: ${r.name} partitioned for ${step.steps} steps`);
        return;
      case 'flaky':
        r.link.flaky(step.steps, step.seed);
        ledger.note(`${t}: ${r.name} flaky for ${step.steps} steps`);
        return;
      case 'expire':
        r.link.expire(step.steps);
        ledger.note(`${t}: ${r.name} token expired for ${step.steps} steps`);
        return;
    }
  };

  const problems: string[] = [];
  let rounds = 0;
  try {
    for (const [t, step] of scenario.steps.entries()) {
      for (const r of replicas) r.link.at(t);
      await run(step, t);
      if (ledger.violations.length > 0) break;
    }

    // The network heals; every replica syncs and settles until a round changes nothing.
    if (ledger.violations.length === 0) {
      for (const r of replicas) r.link.heal();
      const maxRounds = 2 * replicas.length + 6;
      let settle = 0;
      let quiet = false;
      while (!quiet && rounds < maxRounds) {
        rounds++;
        quiet = true;
        for (const r of replicas) {
          try {
            const done = await r.store.sync.syncNow();
            if (done.pushed > 0 || done.pulled > 0) quiet = false;
          } catch (error) {
            ledger.violation(`${r.name}: a sync failed on a healed network: ${errorText(error)}`);
            quiet = false;
            continue;
          }
          for (const conflict of await r.store.sync.conflicts()) {
            quiet = false;
            if (conflict.kind !== 'conflict') {
              ledger.violation(`${r.name}: stream ${conflict.ref.id} is ${conflict.kind}`);
            }
            const how = scenario.settle[settle++ % scenario.settle.length] ?? 'discard';
            await r.settle(conflict.ref, how);
            settled++;
            ledger.note(`heal ${rounds}: ${r.name} settled ${conflict.ref.id} (${how})`);
          }
        }
      }
      if (!quiet) problems.push(`still moving after ${rounds} rounds of a healed network`);
    }
    problems.push(...ledger.violations);

    if (problems.length === 0) {
      const edge = await readEdge(auditor);
      const byStream = new Map<string, string[]>();
      for (const event of edge) {
        const list = byStream.get(event.metadata.aggregateId) ?? [];
        list.push(canonical(event));
        byStream.set(event.metadata.aggregateId, list);
      }
      // 1. Convergence (of the streams it holds, for a replica of scope 'held').
      for (const r of replicas) {
        let held = 0;
        for (let k = 0; k < scenario.streams; k++) {
          const ref = streamRef(k);
          const local = await r.store.stream(ref).read();
          if (r.held && local.length === 0 && !r.holds.has(ref.id)) continue;
          held += byStream.get(ref.id)?.length ?? 0;
          const pending = local.filter((e) => !e.confirmed);
          if (pending.length > 0) {
            problems.push(
              `${r.name}: ${ref.id} keeps ${pending.length} pending events: ${pending.map((e) => e.metadata.messageId).join(' ')}`,
            );
          }
          const mine = local
            .filter((e) => e.confirmed)
            .map(({ confirmed: _, ...e }) => canonical(e as RecordedEvent));
          const theirs = byStream.get(ref.id) ?? [];
          if (JSON.stringify(mine) !== JSON.stringify(theirs)) {
            problems.push(
              `${r.name}: ${ref.id} differs from the edge:\n    here: ${mine.join('\n          ')}\n    edge: ${theirs.join('\n          ')}`,
            );
          }
        }
        const log = await r.store.readLog({ limit: 1000 });
        if (log.events.length !== held) {
          problems.push(
            `${r.name}: its log holds ${log.events.length} events, the edge ${held} of its streams`,
          );
        }
      }
      // 2. Nothing lost, nothing doubled, nothing made up.
      const count = new Map<string, number>();
      for (const event of edge) {
        const id = event.metadata.messageId;
        count.set(id, (count.get(id) ?? 0) + 1);
      }
      for (const [id, n] of count) {
        if (n > 1) problems.push(`${id} is on the edge ${n} times`);
        if (!ledger.issued.has(id)) problems.push(`${id} is on the edge, but no replica made it`);
      }
      for (const [id, origin] of ledger.acked) {
        if (ledger.dropped.has(id)) continue;
        if (!count.has(id)) {
          problems.push(
            `${id} (replica ${origin.replica}, ${origin.stream}) was acknowledged, and is not on the edge`,
          );
        }
      }
      for (const [id, origin] of ledger.dropped) {
        if (count.has(id)) {
          problems.push(
            `${id} (replica ${origin.replica}, ${origin.stream}) was settled away, and is on the edge`,
          );
        }
      }
      // 3. Status.
      for (const r of replicas) {
        const status = await r.store.sync.status();
        if (status.pending !== 0 || status.conflicts !== 0) {
          problems.push(
            `${r.name}: status says ${status.pending} pending, ${status.conflicts} conflicts`,
          );
        }
      }
    }
  } finally {
    for (const r of replicas) await r.close();
  }
  if (problems.length > 0) {
    throw new Error(
      [
        `${problems.length} problems in run ${tag} (${scenario.replicas.length} replicas, ${scenario.streams} streams, ${scenario.steps.length} steps; faults: ${describeFaults(ledger.faults)}):`,
        ...problems.map((p) => `  - ${p}`),
        'what happened:',
        ...ledger.trace.map((line) => `  ${line}`),
      ].join('\n'),
    );
  }
  return {
    faults: ledger.faults,
    seen: ledger.seen,
    acked: ledger.acked.size,
    dropped: ledger.dropped.size,
    settled,
    rounds,
  };
};

/** Registers the suite for a target. */
export const runSyncModel = (target: SyncModelTarget): void => {
  const numRuns = target.numRuns ?? 100;
  const maxSteps = target.maxSteps ?? 80;
  const totals = { runs: 0, faults: noFaults(), acked: 0, dropped: 0, settled: 0 };
  const seen = new Map<string, number>();
  let failed = false;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env;

  describe(`sync model: ${target.name}`, () => {
    afterAll(() => {
      if (!failed && !env?.SYNC_MODEL_REPORT) return;
      const faults = totalOf(totals.faults);
      console.log(
        `sync model (${target.name}): ${totals.runs.toLocaleString('en')} runs, ${faults.toLocaleString('en')} faults (${describeFaults(totals.faults)}); ${totals.acked.toLocaleString('en')} events acknowledged, ${totals.settled.toLocaleString('en')} conflicts settled, ${totals.dropped.toLocaleString('en')} pending events settled away; the edge answered: ${[
          ...seen,
        ]
          .sort()
          .map(([what, n]) => `${n.toLocaleString('en')} ${what}`)
          .join(', ')}`,
      );
    });

    it(
      `${numRuns} runs of 2-4 replicas under faults (${FAULT_KINDS.join(', ')}) converge, losing and doubling nothing`,
      async () => {
        try {
          await fc.assert(
            fc.asyncProperty(scenarioArb(maxSteps), async (scenario) => {
              const result = await runScenario(target, scenario);
              totals.runs++;
              for (const kind of FAULT_KINDS) totals.faults[kind] += result.faults[kind];
              totals.acked += result.acked;
              totals.dropped += result.dropped;
              totals.settled += result.settled;
              for (const [what, n] of result.seen) seen.set(what, (seen.get(what) ?? 0) + n);
            }),
            {
              numRuns,
              endOnFailure: target.shrink === false,
              ...(target.seed === undefined ? {} : { seed: target.seed }),
              ...(target.path === undefined ? {} : { path: target.path }),
            },
          );
        } catch (error) {
          failed = true;
          throw error;
        }
      },
      target.timeoutMs ?? 180_000,
    );
  });
};
