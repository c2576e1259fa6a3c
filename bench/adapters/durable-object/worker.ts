/**
 * The bench Worker. One SQLite-backed Durable Object prepares a workload for one subject
 * on its own storage and runs a timed call on request. Node times each request from
 * outside, because inside workerd the clock does not move while code computes.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Run } from '../../src/measure.js';
import type { AdapterSubject } from '../shared/subject.js';
import { recordTemplate } from '../shared/template.js';
import { adapterWorkloads, type Sizes } from '../shared/workloads.js';
import { durableObjectSubjects } from './subjects.js';

/** Lets the event loop turn, so the object flushes the writes it has queued so far. */
const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Gives a subject its own key prefix: every stream name it is handed gets `prefix`.
 * While `seeding()`, each append is followed by a turn of the event loop: an object that
 * writes tens of thousands of keys in one turn is reset by local workerd, so setup
 * (untimed) writes in steps, as the timed appends are sized to do anyway.
 */
const prefixed = (
  subject: AdapterSubject,
  prefix: string,
  seeding: () => boolean,
): AdapterSubject => ({
  ...subject,
  async create() {
    const store = await subject.create();
    return {
      async append(stream, events, expected) {
        await store.append(prefix + stream, events, expected);
        if (seeding()) await flush();
      },
      read: (stream, from, to) => store.read(prefix + stream, from, to),
      version: (stream) => store.version(prefix + stream),
      dispose: () => store.dispose(),
    };
  },
});

/**
 * One object per workload hosts every subject, each under its own key prefix. The
 * subjects take turns, so the object never idles long enough to be evicted (which would
 * lose the prepared runs it keeps in memory).
 */
export class BenchObject extends DurableObject {
  readonly #runs = new Map<string, Run[]>();
  #seeding = false;

  /** Untimed: builds the workload's state for `subject` in this object. */
  async prepare(sizes: Sizes, workload: number, subject: string): Promise<number> {
    const subjects = durableObjectSubjects(this.ctx.storage, await recordTemplate());
    const at = subjects.findIndex((s) => s.name === subject);
    const chosen = adapterWorkloads(sizes)[workload];
    if (at < 0 || chosen === undefined) throw new Error(`unknown ${subject} / ${workload}`);
    this.#seeding = true;
    try {
      const { runs } = await chosen.prepare(
        prefixed(subjects[at]!, `s${at}-`, () => this.#seeding),
      );
      this.#runs.set(subject, runs);
      return runs.length;
    } finally {
      this.#seeding = false;
    }
  }

  /** One timed call: runs row `row` of `subject` `times` times; returns the units done. */
  async run(subject: string, row: number, times: number): Promise<number> {
    const run = this.#runs.get(subject)?.[row];
    if (run === undefined) throw new Error(`${subject} row ${row} not prepared (object evicted?)`);
    let units = 0;
    for (let i = 0; i < times; i++) units += await run();
    return units;
  }

  /** The empty round trip that `run` timings are corrected by. */
  async noop(): Promise<number> {
    return 0;
  }
}

interface Env {
  readonly BENCH: DurableObjectNamespace<BenchObject>;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const param = (name: string) => url.searchParams.get(name) ?? '';
    const stub = env.BENCH.get(env.BENCH.idFromName(param('object')));
    try {
      switch (url.pathname) {
        case '/prepare': {
          const sizes = JSON.parse(param('sizes')) as Sizes;
          return Response.json(
            await stub.prepare(sizes, Number(param('workload')), param('subject')),
          );
        }
        case '/run':
          return Response.json(
            await stub.run(param('subject'), Number(param('row')), Number(param('times'))),
          );
        default:
          return Response.json(await stub.noop());
      }
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
};
