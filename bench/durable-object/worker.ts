/**
 * The benchmark Worker: one Durable Object class that runs a workload against one subject
 * on its own storage and returns the samples. Time is taken by the caller (Node) around
 * each sample call, because a Worker's clock does not move while it computes.
 */
import { DurableObject } from 'cloudflare:workers';
import { createEventStore, type EventStore } from '@eventkv/core';
import { createDurableObjectKv } from '@eventkv/durable-object';
import { type Deposit, makeDeposits } from '../src/subject.js';

type SubjectName = 'eventkv' | 'eventkv lean' | 'async put/list' | 'sync kv';
type Workload = 'W1a' | 'W1b' | 'W2a' | 'W2b' | 'W4';

const APPENDS = 10_000;
const SLICE_REPEAT = 100;
const VERSION_REPEAT = 100;
const deposits = makeDeposits(APPENDS);

/** The calls a workload makes, the same for every subject. */
interface Subject {
  append(stream: string, events: readonly Deposit[], expected: number): Promise<void>;
  read(stream: string, from?: number, to?: number): Promise<number>;
  version(stream: string): Promise<number>;
}

const pad = (n: number) => n.toString().padStart(16, '0');
const eventKey = (stream: string, version: number) => `e/${stream}/${pad(version)}`;
const headKey = (stream: string) => `h/${stream}`;

const conflict = (stream: string, expected: number, actual: number) =>
  new Error(`version mismatch on ${stream}: expected ${expected}, actual ${actual}`);

/** Floor (a): the async storage API, events and head in one put(entries) after a head check. */
const asyncFloor = (storage: DurableObjectStorage): Subject => ({
  async append(stream, events, expected) {
    const head = (await storage.get<number>(headKey(stream))) ?? 0;
    if (head !== expected) throw conflict(stream, expected, head);
    const entries: Record<string, unknown> = {};
    events.forEach((event, i) => {
      entries[eventKey(stream, expected + i + 1)] = event;
    });
    entries[headKey(stream)] = expected + events.length;
    await storage.put(entries);
  },
  async read(stream, from = 1, to) {
    const end = to === undefined ? `e/${stream}0` : eventKey(stream, to + 1);
    return (await storage.list({ start: eventKey(stream, from), end })).size;
  },
  async version(stream) {
    return (await storage.get<number>(headKey(stream))) ?? 0;
  },
});

/** Floor (b): the synchronous KV API inside transactionSync, with the same head check. */
const syncFloor = (storage: DurableObjectStorage): Subject => ({
  async append(stream, events, expected) {
    storage.transactionSync(() => {
      const head = storage.kv.get<number>(headKey(stream)) ?? 0;
      if (head !== expected) throw conflict(stream, expected, head);
      events.forEach((event, i) => {
        storage.kv.put(eventKey(stream, expected + i + 1), event);
      });
      storage.kv.put(headKey(stream), expected + events.length);
    });
  },
  async read(stream, from = 1, to) {
    const end = to === undefined ? `e/${stream}0` : eventKey(stream, to + 1);
    return [...storage.kv.list({ start: eventKey(stream, from), end })].length;
  },
  async version(stream) {
    return storage.kv.get<number>(headKey(stream)) ?? 0;
  },
});

const eventkv = (store: EventStore<Deposit>): Subject => ({
  async append(stream, events, expected) {
    await store
      .stream({ type: 'Account', id: stream })
      .append(events, { expectedVersion: expected });
  },
  async read(stream, from, to) {
    const options = from === undefined ? {} : { from, ...(to === undefined ? {} : { to }) };
    return (await store.stream({ type: 'Account', id: stream }).read(options)).length;
  },
  version: (stream) => store.stream({ type: 'Account', id: stream }).version(),
});

const check = (what: string, actual: number, expected: number) => {
  if (actual !== expected) throw new Error(`${what}: got ${actual}, expected ${expected}`);
};

export class BenchObject extends DurableObject {
  #subjects = new Map<SubjectName, Subject>();

  #subject(name: SubjectName): Subject {
    let subject = this.#subjects.get(name);
    if (!subject) {
      const storage = this.ctx.storage;
      subject =
        name === 'async put/list'
          ? asyncFloor(storage)
          : name === 'sync kv'
            ? syncFloor(storage)
            : eventkv(
                createEventStore<Deposit>({
                  kv: createDurableObjectKv(storage),
                  ...(name === 'eventkv lean' ? { globalLog: false, indexes: false } : {}),
                }),
              );
      this.#subjects.set(name, subject);
    }
    return subject;
  }

  /** Untimed setup: the 10,000-event stream the reads use. */
  async seed(name: SubjectName): Promise<void> {
    const subject = this.#subject(name);
    for (let v = 0; v < APPENDS; v += 1000)
      await subject.append('acc-1', deposits.slice(v, v + 1000), v);
    await subject.append('small', deposits.slice(0, 10), 0);
  }

  /** Runs the workload `times` times and returns the units done (events or operations). */
  async run(name: SubjectName, workload: Workload, times: number): Promise<number> {
    const subject = this.#subject(name);
    let units = 0;
    for (let t = 0; t < times; t++) {
      switch (workload) {
        case 'W1a':
        case 'W1b': {
          // A new stream per repetition, as the core bench starts from a fresh store. Not a
          // counter in memory: an idle object may be evicted between samples.
          const stream = `fresh-${crypto.randomUUID()}`;
          const batch = workload === 'W1a' ? 1 : 100;
          for (let v = 0; v < APPENDS; v += batch) {
            await subject.append(stream, deposits.slice(v, v + batch), v);
          }
          check(`${name} version`, await subject.version(stream), APPENDS);
          units += APPENDS;
          break;
        }
        case 'W2a':
          check(`${name} read`, await subject.read('acc-1'), APPENDS);
          units += APPENDS;
          break;
        case 'W2b':
          for (let i = 0; i < SLICE_REPEAT; i++) {
            check(`${name} slice`, await subject.read('acc-1', 4_951, 5_050), 100);
          }
          units += SLICE_REPEAT * 100;
          break;
        case 'W4':
          for (let i = 0; i < VERSION_REPEAT; i++) {
            check(`${name} version`, await subject.version('small'), 10);
          }
          units += VERSION_REPEAT;
          break;
      }
    }
    return units;
  }
}

interface Env {
  BENCH: DurableObjectNamespace<BenchObject>;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const object = url.searchParams.get('object') ?? 'default';
    const subject = url.searchParams.get('subject') as SubjectName;
    const stub = env.BENCH.get(env.BENCH.idFromName(object));
    try {
      if (url.pathname === '/seed') {
        await stub.seed(subject);
        return Response.json({ ok: true });
      }
      const workload = url.searchParams.get('workload') as Workload;
      const times = Number(url.searchParams.get('times') ?? '1');
      return Response.json({ units: await stub.run(subject, workload, times) });
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
};
