import { expect, type Run } from '../../src/measure.js';
import { makeDeposits } from '../../src/subject.js';
import type { AdapterStore, AdapterSubject } from './subject.js';

export interface AdapterRow {
  readonly id: string;
  readonly title: string;
  readonly unit: 'events/s' | 'ops/s';
}

/** How big each workload is: real backends are slower than memory, so sizes can shrink. */
export interface Sizes {
  /** W1a: events appended one per call to a new stream. */
  readonly appendOne: number;
  /** W1b: events appended in batches of 100 to a new stream. */
  readonly appendBatch: number;
  /** W2a/W2b: length of the stream read (the W2b slice is its middle 100 events). */
  readonly readStream: number;
  /** W3b: streams of 10 events, each read once per timed call. */
  readonly streams: number;
  /** W2b slice reads and W4 version() calls per timed call. */
  readonly repeat: number;
}

export interface AdapterWorkload {
  readonly rows: readonly AdapterRow[];
  /** Which subject roles run it. */
  readonly roles: readonly AdapterSubject['role'][];
  /** Builds the untimed state; returns one timed run per row and a cleanup. */
  prepare(subject: AdapterSubject): Promise<{ runs: Run[]; dispose(): Promise<void> }>;
}

const BATCH = 100;
const PER_STREAM = 10;
const SEED_BATCH = 1000;
const k = (n: number) => (n % 1000 === 0 ? `${n / 1000}k` : `${n}`);

const seedStream = async (store: AdapterStore, stream: string, count: number) => {
  for (let done = 0; done < count; done += SEED_BATCH) {
    const size = Math.min(SEED_BATCH, count - done);
    await store.append(stream, makeDeposits(size, done), done);
  }
};

/**
 * W1a, W1b, W2a, W2b, W3b and W4 of the core bench, over `AdapterSubject`s, with sizes
 * that fit the backend. Every workload starts from a fresh database.
 */
export const adapterWorkloads = (sizes: Sizes): AdapterWorkload[] => {
  const deposits = makeDeposits(Math.max(sizes.appendOne, sizes.appendBatch));
  const streamIds = Array.from({ length: sizes.streams }, (_, i) => `acc-${i}`);
  const mid = Math.floor(sizes.readStream / 2) - 49;
  let fresh = 0;

  const appendAll = (subject: AdapterSubject, count: number, batch: number): Run => {
    return async () => {
      // A fresh database per repetition, as the core bench starts from a fresh store.
      const store = await subject.create();
      const stream = `w1-${++fresh}`;
      for (let v = 0; v < count; v += batch) {
        await store.append(stream, deposits.slice(v, v + batch), v);
      }
      expect(`${subject.name} version`, await store.version(stream), count);
      await store.dispose();
      return count;
    };
  };

  const w1: AdapterWorkload = {
    rows: [
      { id: 'W1a', title: `append ${k(sizes.appendOne)}, one per call`, unit: 'events/s' },
      { id: 'W1b', title: `append ${k(sizes.appendBatch)}, batches of 100`, unit: 'events/s' },
    ],
    roles: ['eventkv', 'eventkv lean', 'floor'],
    async prepare(subject) {
      return {
        runs: [
          appendAll(subject, sizes.appendOne, 1),
          appendAll(subject, sizes.appendBatch, BATCH),
        ],
        dispose: async () => {},
      };
    },
  };

  const w2: AdapterWorkload = {
    rows: [
      { id: 'W2a', title: `read ${k(sizes.readStream)}-event stream`, unit: 'events/s' },
      { id: 'W2b', title: 'read 100-event slice', unit: 'events/s' },
    ],
    roles: ['eventkv', 'floor'],
    async prepare(subject) {
      const store = await subject.create();
      await seedStream(store, 'acc-1', sizes.readStream);
      const readAll: Run = async () => {
        expect(`${subject.name} read`, await store.read('acc-1'), sizes.readStream);
        return sizes.readStream;
      };
      const readSlice: Run = async () => {
        for (let i = 0; i < sizes.repeat; i++) {
          expect(`${subject.name} slice`, await store.read('acc-1', mid, mid + 99), 100);
        }
        return sizes.repeat * 100;
      };
      return { runs: [readAll, readSlice], dispose: () => store.dispose() };
    },
  };

  const w3: AdapterWorkload = {
    rows: [{ id: 'W3b', title: `read each of ${k(sizes.streams)} streams`, unit: 'events/s' }],
    roles: ['eventkv', 'floor'],
    async prepare(subject) {
      const store = await subject.create();
      for (const id of streamIds) await store.append(id, deposits.slice(0, PER_STREAM), 0);
      const readEach: Run = async () => {
        for (const id of streamIds)
          expect(`${subject.name} read`, await store.read(id), PER_STREAM);
        return sizes.streams * PER_STREAM;
      };
      return { runs: [readEach], dispose: () => store.dispose() };
    },
  };

  const w4: AdapterWorkload = {
    rows: [{ id: 'W4', title: 'version(), 10-event stream', unit: 'ops/s' }],
    roles: ['eventkv', 'floor'],
    async prepare(subject) {
      const store = await subject.create();
      await store.append('small', deposits.slice(0, PER_STREAM), 0);
      const versions: Run = async () => {
        for (let i = 0; i < sizes.repeat; i++) {
          expect(`${subject.name} version`, await store.version('small'), PER_STREAM);
        }
        return sizes.repeat;
      };
      return { runs: [versions], dispose: () => store.dispose() };
    },
  };

  return [w1, w2, w3, w4];
};
