/**
 * `pnpm bench:http-profile`: where apps/worker spends CPU per request. Starts the eventkv
 * Worker as `bench:http` does, with workerd's inspector on, sends `--seconds` of appends (or
 * reads of `--events`-event streams) from `--concurrency` clients, and records a CPU profile
 * of the Worker's isolate (the Worker and its Durable Objects run in one). Prints self time
 * per request by source file of the bundle and by function, and writes the profile (`--out`,
 * open it in Chrome DevTools). Sampling slows workerd down (about 1.5x at 50 µs): compare the
 * shares, not the absolute times, with `bench:http`.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { mintLocalToken } from '../../../apps/worker/scripts/local-dev.mjs';
import { makeDeposits } from '../../src/subject.js';
import { positiveInt } from '../shared/cli.js';
import { moduleOfLine, type Profile, profileWhile } from '../shared/inspector.js';
import { table } from '../sync/stats.js';
import { httpClient } from './client.js';
import { startRuntime } from './workerd.js';

const { values } = parseArgs({
  options: {
    phase: { type: 'string', default: 'append' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    streams: { type: 'string', default: '100' },
    events: { type: 'string', default: '10' },
    interval: { type: 'string', default: '50' },
    top: { type: 'string', default: '30' },
    out: { type: 'string', default: 'http.cpuprofile' },
  },
});
if (values.phase !== 'append' && values.phase !== 'read') {
  throw new Error("--phase must be 'append' or 'read'");
}
const PHASE = values.phase;
const SECONDS = positiveInt('seconds', values.seconds);
const CONCURRENCY = positiveInt('concurrency', values.concurrency);
const STREAMS = positiveInt('streams', values.streams);
const EVENTS = positiveInt('events', values.events);
const INTERVAL = positiveInt('interval', values.interval);
const TOP = positiveInt('top', values.top);

const SECRET = 'bench-secret-local-only-0123456789abcdef';
const runtime = await startRuntime({ AUTH_SECRET: SECRET, RATE_LIMIT_PER_MINUTE: '0' }, undefined, {
  inspect: true,
});
const client = httpClient(CONCURRENCY);
const authorization = `Bearer ${await mintLocalToken('bench', { secret: SECRET, subject: 'bench' })}`;
const url = (s: number) => new URL(`/v1/bench/streams/Account/p-${s}/events`, runtime.eventkv);
const versions = new Array<number>(STREAMS).fill(0);

const append = async (s: number, count = 1) => {
  const v = versions[s]!;
  const body = JSON.stringify({
    events: makeDeposits(count, v),
    expectedVersion: v === 0 ? 'no-stream' : v,
  });
  const headers = { authorization, 'content-type': 'application/json' };
  const answer = await client.send(url(s), 'POST', headers, body);
  if (answer.status !== 201) throw new Error(`append: ${answer.status} ${answer.text}`);
  versions[s] = v + count;
};
const read = async (s: number) => {
  const answer = await client.send(url(s), 'GET', { authorization });
  if (answer.status !== 200) throw new Error(`read: ${answer.status} ${answer.text}`);
};

/** `CONCURRENCY` loops for `ms`, loop `w` on streams `w, w + CONCURRENCY, ...`; the requests sent. */
const load = async (ms: number, op: (s: number) => Promise<void>): Promise<number> => {
  const t0 = performance.now();
  let requests = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      const owned = Math.ceil((STREAMS - w) / CONCURRENCY);
      for (let turn = 0; performance.now() - t0 < ms; turn++) {
        await op(w + (turn % owned) * CONCURRENCY);
        requests++;
      }
    }),
  );
  return requests;
};

/** Self time per request, by the bundle's source file (or native function) and by function. */
const summarize = (profile: Profile, requests: number) => {
  const fileAt = moduleOfLine(runtime.eventkvScript);
  const self = new Map<number, number>();
  profile.samples.forEach((node, i) => {
    self.set(node, (self.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byFile = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number) =>
    map.set(key, (map.get(key) ?? 0) + us);
  for (const node of profile.nodes) {
    const us = self.get(node.id);
    if (us === undefined) continue;
    const { functionName, url: script, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const inBundle = script !== '' && !script.startsWith('node:');
    add(byFile, inBundle ? fileAt(lineNumber) : `${name} (native)`, us);
    add(
      byFunction,
      inBundle
        ? `${name} ${fileAt(lineNumber)} (bundle line ${lineNumber + 1})`
        : `${name} (native)`,
      us,
    );
  }
  const busy = [...byFile].filter(([k]) => k !== '(idle) (native)').reduce((a, [, v]) => a + v, 0);
  const rows = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([key, us]) => [key, (us / requests).toFixed(1), `${((100 * us) / busy).toFixed(1)}%`]);
  console.log(
    `${requests} ${PHASE === 'append' ? 'appends (1 event)' : `reads (${EVENTS}-event streams)`} ` +
      `in ${SECONDS} s, sampled every ${INTERVAL} µs: ${(busy / requests).toFixed(0)} µs busy per request`,
  );
  console.log();
  console.log(table(['self time by file', 'µs/req', 'of busy'], rows(byFile)));
  console.log();
  console.log(table(['self time by function', 'µs/req', 'of busy'], rows(byFunction)));
  console.log();
  console.log(
    table(
      [`${PHASE}: samples by part`, 'µs/req', 'of busy'],
      byPart(PHASE === 'append' ? APPEND_PARTS : READ_PARTS, profile, fileAt, requests, busy),
    ),
  );
};

type Parts = readonly (readonly [string, (file: string, name: string) => boolean])[];

/**
 * The append's parts: each sample goes to the first part (in this order) with a frame on
 * its stack, so the storage adapter's time counts for the object whose call made it.
 */
const APPEND_PARTS: Parts = [
  [
    "database's object applying deliveries (feedDeliver, feed-apply, replica)",
    (file, name) =>
      name === 'feedDeliver' || /object\/feed-apply\.ts$|core\/src\/replica\.ts$/.test(file),
  ],
  [
    'stream object delivering (feed-delivery, its port)',
    (file, name) =>
      /object\/feed-delivery\.ts$/.test(file) ||
      (/object\/event-store-object\.ts$/.test(file) && ['send', 'read', 'version'].includes(name)),
  ],
  [
    'stream object appending (its RPC method, core, the adapter)',
    (file, name) =>
      (/object\/event-store-object\.ts$/.test(file) && name === 'append') ||
      /core\/src\/(append|stream|store)\.ts$|durable-object\/src\/kv\//.test(file),
  ],
  [
    "the Worker's RPC call (remote-stream, object-caller)",
    (file) => /client\/(remote-stream|object-caller)\.ts$/.test(file),
  ],
  ["the Worker's HTTP handling (apps/worker, Hono)", (file) => /apps\/worker\/|hono\//.test(file)],
];

/**
 * The read's parts, in the same way: writing the page's wire JSON counts wherever it runs
 * (in the stream's object since it answers the page's text, in the Worker before), and
 * weighing the events before the store read that calls it.
 */
const READ_PARTS: Parts = [
  [
    "writing the page's wire JSON (core's wire-json, wire-records; object or Worker)",
    (file) => /core\/src\/wire-(json|records)\.ts$/.test(file),
  ],
  [
    'stream object weighing the events (pageEventWeight, payloadSize)',
    (file, name) =>
      /core\/src\/read-page\.ts$/.test(file) && (name === 'eventWeight' || name === ''),
  ],
  [
    "stream object's store read (core's stream read, the adapter)",
    (file) =>
      /core\/src\/(stream|store|io|records|session|codec\/[^/]+)\.ts$|core\/src\/kv\/|durable-object\/src\/kv\//.test(
        file,
      ),
  ],
  [
    'stream object answering the page (its RPC method, readPage, caller-page, wire-page)',
    (file) =>
      /object\/(event-store-object|caller-page|wire-page)\.ts$|core\/src\/read-page\.ts$/.test(
        file,
      ),
  ],
  [
    "the Worker's RPC call (remote-stream, object-caller)",
    (file) => /client\/(remote-stream|object-caller)\.ts$/.test(file),
  ],
  ["the Worker's HTTP handling (apps/worker, Hono)", (file) => /apps\/worker\/|hono\//.test(file)],
];

const byPart = (
  parts: Parts,
  profile: Profile,
  fileAt: (line: number) => string,
  requests: number,
  busy: number,
): string[][] => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const partOf = new Map<number, string>();
  const part = (id: number): string => {
    const known = partOf.get(id);
    if (known !== undefined) return known;
    const frames: { file: string; name: string }[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url, lineNumber } = (byId.get(at) as Profile['nodes'][number])
        .callFrame;
      const inBundle = url !== '' && !url.startsWith('node:');
      frames.push({ file: inBundle ? fileAt(lineNumber) : '', name: functionName });
    }
    const leaf = frames[0]?.name ?? '';
    const found =
      leaf === '(idle)'
        ? 'idle'
        : (parts.find(([, match]) => frames.some((f) => match(f.file, f.name)))?.[0] ??
          'native time not attributed to JavaScript (RPC, HTTP), GC, the rest');
    partOf.set(id, found);
    return found;
  };
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const key = part(id);
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const order = [
    ...parts.map(([name]) => name),
    'native time not attributed to JavaScript (RPC, HTTP), GC, the rest',
  ];
  return order.map((name) => {
    const us = totals.get(name) ?? 0;
    return [name, (us / requests).toFixed(1), `${((100 * us) / busy).toFixed(1)}%`];
  });
};

try {
  // Untimed: every stream gets its events (reads) or its first one (appends), then a warm-up.
  await Promise.all(
    Array.from({ length: STREAMS }, (_, s) => append(s, PHASE === 'read' ? EVENTS : 1)),
  );
  const op = PHASE === 'read' ? read : append;
  await load(2000, op);
  const { profile, result: requests } = await profileWhile(
    runtime.inspector as URL,
    'eventkv',
    INTERVAL,
    () => load(SECONDS * 1000, op),
  );
  writeFileSync(values.out, JSON.stringify(profile));
  summarize(profile, requests);
  process.stderr.write(`profile written to ${values.out}\n`);
} finally {
  client.destroy();
  await runtime.dispose();
}
