import { eventkv, eventkvLean } from './eventkv.js';
import { cloneFloor, mapFloor } from './floors.js';
import { expect, type Run } from './measure.js';
import { castore, emmett } from './peers.js';
import { type BenchStore, makeDeposits, type Subject, seedByAppending } from './subject.js';

export interface Row {
  readonly id: string;
  readonly title: string;
  readonly unit: 'events/s' | 'ops/s';
}

export interface Workload {
  readonly rows: readonly Row[];
  readonly subjects: readonly Subject[];
  /** Builds the untimed state and returns one timed run per row (undefined: n/a). */
  prepare(subject: Subject): Promise<(Run | undefined)[]>;
}

const REFERENCES = [mapFloor, cloneFloor, emmett, castore];
const ALL = [eventkv, eventkvLean, ...REFERENCES];
const DEFAULT_ONLY = [eventkv, ...REFERENCES];

const APPENDS = 10_000;
const STREAMS = 1_000;
const PER_STREAM = 10;
const BIG = 100_000;
/** Events appended after `snapshotEvery` ran: what `load()` reads after the snapshot. */
const TAIL = 50;
const SNAPSHOT_EVERY = 100;
/** Quick operations run this many times per timed call, so the timer's cost stays out. */
const SLICE_REPEAT = 100;
const VERSION_REPEAT = 100;

const deposits = makeDeposits(APPENDS);
const streamIds = Array.from({ length: STREAMS }, (_, i) => `acc-${i}`);

const seed = (subject: Subject, streams: readonly (readonly [string, number])[]) =>
  subject.seed ? subject.seed(streams) : seedByAppending(subject.create(), streams);

const w1: Workload = {
  rows: [
    { id: 'W1a', title: 'append 10k, one per call', unit: 'events/s' },
    { id: 'W1b', title: 'append 10k, batches of 100', unit: 'events/s' },
  ],
  subjects: ALL,
  async prepare(subject) {
    const appendAll = async (batch: number) => {
      const store = subject.create();
      for (let v = 0; v < APPENDS; v += batch) {
        await store.append('acc-1', deposits.slice(v, v + batch), v);
      }
      expect(`${subject.name} version`, await store.version('acc-1'), APPENDS);
      return APPENDS;
    };
    return [() => appendAll(1), () => appendAll(100)];
  },
};

const w2: Workload = {
  rows: [
    { id: 'W2a', title: 'read 10k-event stream', unit: 'events/s' },
    { id: 'W2b', title: 'read 100-event slice', unit: 'events/s' },
  ],
  subjects: DEFAULT_ONLY,
  async prepare(subject) {
    const store = await seed(subject, [['acc-1', APPENDS]]);
    const readAll: Run = async () => {
      expect(`${subject.name} read`, await store.read('acc-1'), APPENDS);
      return APPENDS;
    };
    const readSlice: Run = async () => {
      for (let i = 0; i < SLICE_REPEAT; i++) {
        expect(`${subject.name} slice`, await store.read('acc-1', 4_951, 5_050), 100);
      }
      return SLICE_REPEAT * 100;
    };
    return [readAll, readSlice];
  },
};

const w3: Workload = {
  rows: [
    { id: 'W3a', title: '1k streams x 10, round-robin', unit: 'events/s' },
    { id: 'W3b', title: 'read each of 1k streams', unit: 'events/s' },
  ],
  subjects: ALL,
  async prepare(subject) {
    const interleave: Run = async () => {
      const store = subject.create();
      for (let round = 0; round < PER_STREAM; round++) {
        for (let s = 0; s < STREAMS; s++) {
          await store.append(streamIds[s]!, [deposits[round * STREAMS + s]!], round);
        }
      }
      return STREAMS * PER_STREAM;
    };
    if (subject === eventkvLean) return [interleave, undefined];
    const store = await seed(
      subject,
      streamIds.map((id) => [id, PER_STREAM] as const),
    );
    const readEach: Run = async () => {
      for (const id of streamIds) expect(`${subject.name} read`, await store.read(id), PER_STREAM);
      return STREAMS * PER_STREAM;
    };
    return [interleave, readEach];
  },
};

/**
 * The 100k-event stream of W4 and W5: `BIG - TAIL` events, a snapshot every 100 (where
 * the store has them), then `TAIL` more, so `load()` reads a snapshot plus 100 events.
 * A 10-event stream lives in the same store. Built once per subject.
 */
const bigStores = new Map<Subject, Promise<BenchStore>>();
const bigStore = (subject: Subject): Promise<BenchStore> => {
  let store = bigStores.get(subject);
  if (store === undefined) {
    store = (async () => {
      const built = await seed(subject, [
        ['big', BIG - TAIL],
        ['small', PER_STREAM],
      ]);
      await built.snapshotEvery?.('big', SNAPSHOT_EVERY);
      await built.append('big', deposits.slice(0, TAIL), BIG - TAIL);
      return built;
    })();
    bigStores.set(subject, store);
  }
  return store;
};

const w4: Workload = {
  rows: [
    { id: 'W4 10', title: 'version(), 10-event stream', unit: 'ops/s' },
    { id: 'W4 100k', title: 'version(), 100k-event stream', unit: 'ops/s' },
  ],
  subjects: DEFAULT_ONLY,
  async prepare(subject) {
    const store = await bigStore(subject);
    const versions =
      (stream: string, expected: number): Run =>
      async () => {
        for (let i = 0; i < VERSION_REPEAT; i++) {
          expect(`${subject.name} version`, await store.version(stream), expected);
        }
        return VERSION_REPEAT;
      };
    return [versions('small', PER_STREAM), versions('big', BIG)];
  },
};

const w5: Workload = {
  rows: [
    { id: 'W5 replay', title: 'read() + fold, 100k events', unit: 'ops/s' },
    { id: 'W5 load', title: 'load() snapshot + fold', unit: 'ops/s' },
  ],
  subjects: DEFAULT_ONLY,
  async prepare(subject) {
    const store = await bigStore(subject);
    const replay: Run = async () => {
      expect(`${subject.name} replay`, (await store.replay('big')).count, BIG);
      return 1;
    };
    const { load } = store;
    if (load === undefined) return [replay, undefined];
    return [
      replay,
      async () => {
        expect(`${subject.name} load`, (await load('big')).count, BIG);
        return 1;
      },
    ];
  },
};

/** W6: the same work over 1 stream and over `MANY` streams, in stores of the same size. */
const MANY = 10_000;
/** Events in each W6 store before sampling starts: 100,000 in 1 stream, or 10 in each of 10,000. */
const W6_EVENTS = 100_000;
/** Appends (one event each) and `version()` calls per timed call. */
const W6_CALLS = 10_000;
const manyIds = Array.from({ length: MANY }, (_, i) => `acc-${i}`);

/**
 * A store holding `W6_EVENTS` events spread evenly over the first `streams` ids of
 * `manyIds`, with their versions. Filled through its own appends (setup, not timed).
 */
const spreadStore = async (subject: Subject, streams: number) => {
  const ids = manyIds.slice(0, streams);
  const per = W6_EVENTS / streams;
  const store = await seed(
    subject,
    ids.map((id) => [id, per] as const),
  );
  return { store, ids, versions: ids.map(() => per) };
};

const w6: Workload = {
  rows: [
    { id: 'W6a 1', title: 'append, 1 stream', unit: 'events/s' },
    { id: 'W6a 10k', title: 'append, 10k streams round-robin', unit: 'events/s' },
    { id: 'W6b 1', title: 'version(), 1 stream', unit: 'ops/s' },
    { id: 'W6b 10k', title: 'version(), 10k streams round-robin', unit: 'ops/s' },
  ],
  // The peers copy or scan a stream per append, which a 100,000-event stream makes O(n).
  subjects: [eventkv, eventkvLean, mapFloor, cloneFloor],
  async prepare(subject) {
    // Appends go on from where the previous timed call left off: the store keeps growing
    // (by the same number of events in both), and every append passes the right version.
    const appends = async (streams: number): Promise<Run> => {
      const { store, ids, versions } = await spreadStore(subject, streams);
      let next = 0;
      return async () => {
        for (let i = 0; i < W6_CALLS; i++) {
          const s = next;
          next = next + 1 === streams ? 0 : next + 1;
          const version = versions[s]!;
          await store.append(ids[s]!, [deposits[i]!], version);
          versions[s] = version + 1;
        }
        return W6_CALLS;
      };
    };
    const versions = async (streams: number): Promise<Run> => {
      const { store, ids, versions: expected } = await spreadStore(subject, streams);
      return async () => {
        for (let i = 0, s = 0; i < W6_CALLS; i++, s = s + 1 === streams ? 0 : s + 1) {
          expect(`${subject.name} version`, await store.version(ids[s]!), expected[s]!);
        }
        return W6_CALLS;
      };
    };
    const lean = subject === eventkvLean;
    return [
      await appends(1),
      await appends(MANY),
      lean ? undefined : await versions(1),
      lean ? undefined : await versions(MANY),
    ];
  },
};

export const WORKLOADS: readonly Workload[] = [w1, w2, w3, w4, w5, w6];
export const SUBJECTS: readonly Subject[] = ALL;
