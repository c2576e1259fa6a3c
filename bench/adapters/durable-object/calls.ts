/**
 * `pnpm bench:durable-object-calls`: what single storage calls cost inside workerd, the
 * parts the Durable Object adapter's writes and reads are made of (`calls-worker.ts`).
 * Each round runs every kind of call `--calls` times (in five requests), in turn; the
 * cost of a call is workerd's CPU time (user + system, from /proc) over those requests
 * divided by the calls, so the requests' own cost is spread thin. Prints medians and ranges of
 * `--rounds` rounds, µs per call. Linux only (the CPU time comes from /proc).
 */
import { parseArgs } from 'node:util';
import { positiveInt } from '../shared/cli.js';
import { benchWorker, startWorkerd } from '../shared/workerd.js';
import { table } from '../sync/stats.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '5' },
    only: { type: 'string' },
  },
});
const CALLS = positiveInt('calls', values.calls);
const ROUNDS = positiveInt('rounds', values.rounds);
const KINDS = [
  'empty transactionSync',
  'kv.get, outside a transaction',
  'kv.get in a transactionSync',
  '3 kv.get in a transactionSync',
  'kv.put of an event in a transactionSync',
  '2 kv.put of heads in a transactionSync',
  'SELECT of 1 small row, outside a transaction',
  'SELECT of 1 small row in a transactionSync',
  'SELECT of 3 small rows in a transactionSync',
  'SELECT of 1 small row and kv.list of 100 events, outside a transaction',
  'SELECT of 1 small row and kv.list of 100 events in a transactionSync',
  'upsert of 2 small rows in a transactionSync',
  '6 index keys, one INSERT, in a transactionSync',
  '6 index keys, one INSERT, outside a transaction',
  '6 index keys, six INSERTs, in a transactionSync',
  '6 index keys, six INSERTs, outside a transaction',
  '6 keys on one page (consecutive), one INSERT, in a transactionSync',
  'view: 6 index keys + 2 small rows in a transactionSync',
  'two statements: the same rows in a transactionSync',
  'feed: 100 records x 6 index keys, JSON + json_each',
  'feed: 100 records x 6 index keys, bound parameters',
].filter((kind) => values.only === undefined || kind.includes(values.only));
/** The feed's calls write 100 records each, the lists read 100 events: fewer of them. */
const callsOf = (kind: string) =>
  kind.startsWith('feed')
    ? Math.max(1, CALLS / 100)
    : kind.includes('kv.list')
      ? Math.max(1, CALLS / 10)
      : CALLS;
/**
 * Calls are sent in requests of at most a fifth of them: local workerd reset the object
 * ("other side closed") after requests that wrote tens of thousands of keys in one turn.
 */
const REQUESTS = 5;

const workerd = await startWorkerd([
  {
    name: 'calls',
    entry: benchWorker('durable-object/calls-worker.ts'),
    durableObjects: { CALLS: 'CallsObject' },
  },
]);
const run = async (kind: string, n: number) => {
  const query = new URLSearchParams({ kind, n: String(n) });
  let body: number | { error: string };
  try {
    body = (await (await fetch(new URL(`/?${query}`, workerd.url('calls')))).json()) as
      | number
      | { error: string };
  } catch (error) {
    throw new Error(`${kind}: ${String(error)}`, { cause: error });
  }
  if (typeof body !== 'number') throw new Error(body.error);
};

try {
  const started = new Date();
  // Untimed: every kind once, which also fills the tables.
  for (const kind of KINDS) await run(kind, Math.max(1, callsOf(kind) / REQUESTS));
  const times = new Map<string, number[]>(KINDS.map((kind) => [kind, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of KINDS) {
      const before = workerd.cpuMs();
      for (let r = 0; r < REQUESTS; r++) await run(kind, Math.max(1, callsOf(kind) / REQUESTS));
      const after = workerd.cpuMs();
      if (before === undefined || after === undefined) throw new Error('no CPU time from /proc');
      times.get(kind)?.push(((after - before) * 1000) / callsOf(kind));
    }
  }
  const median = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  console.log(
    `Durable Object storage calls, local workerd, ${started.toISOString()}; workerd CPU per call, ` +
      `${CALLS} calls in ${REQUESTS} requests (the lists': ${callsOf('kv.list')}, the feed's: ${callsOf('feed')}), median of ${ROUNDS} rounds`,
  );
  console.log();
  console.log(
    table(
      ['call', 'µs', 'range'],
      KINDS.map((kind) => {
        const xs = times.get(kind) as number[];
        return [
          kind,
          median(xs).toFixed(1),
          `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`,
        ];
      }),
    ),
  );
} finally {
  await workerd.dispose();
}
