import { env } from 'cloudflare:workers';
import {
  createEventStore,
  createMemoryKv,
  isInvalidArgumentError,
  pageEventWeight,
  type ReadOptions,
  type RecordedEvent,
  readPage,
} from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import {
  createDurableObjectEventStore,
  eventStoreObjectRpc,
  streamObjectName,
  unwrapResult,
} from '../src/index.js';
import type { ReadPage } from '../src/object/calls.js';
import { READ_PAGE_LIMITS } from '../src/object/event-store-object.js';
import { uniqueRef } from './helpers.js';

type Sized = { type: 'Sized'; data: { n: number; pad: string } };
const sized = (n: number) => ({
  type: 'Sized' as const,
  data: { n, pad: 'x'.repeat((n % 4) * 300) },
});
type Limits = { maxEvents: number; maxBytes: number };
/** What the Worker calls on a Durable Object's stream (`RemoteStream.readPage`). */
type Paged = { readPage(options: ReadOptions, limits: Limits): Promise<ReadPage<Sized>> };

const follow = async (
  page: (options: ReadOptions) => Promise<ReadPage<Sized>>,
  options: ReadOptions,
) => {
  const pages = [await page(options)];
  while (pages.at(-1)!.next) pages.push(await page(pages.at(-1)!.next!));
  return pages;
};
const shape = (pages: ReadPage<Sized>[]) =>
  pages.map((p) => ({ versions: p.events.map((e: RecordedEvent) => e.version), next: p.next }));

describe("pages of the caller's own (the Worker's GET .../events, cut in the object)", () => {
  const store = createDurableObjectEventStore<Sized>(env.STORE);

  it('are the pages core cuts locally with pageEventWeight, in both directions', async () => {
    const ref = uniqueRef();
    const remote = store.stream(ref) as unknown as Paged & ReturnType<typeof store.stream>;
    const local = createEventStore<Sized>({ kv: createMemoryKv() }).stream(ref);
    const events = Array.from({ length: 30 }, (_, i) => sized(i + 1));
    await remote.append(events);
    await local.append(events);
    const limits = { maxEvents: 7, maxBytes: 1500 };
    for (const options of [
      {},
      { from: 4, to: 27 },
      { direction: 'backward', limit: 20 },
    ] as const) {
      const there = await follow((o) => remote.readPage(o, limits), options);
      const here = await follow(
        (o) => readPage(local, o, limits, pageEventWeight(limits.maxBytes)),
        options,
      );
      expect(shape(there)).toEqual(shape(here));
      expect(there.length).toBeGreaterThan(2);
      expect(there.flatMap((p) => p.events)).toEqual(await remote.read(options));
    }
  });

  it("are bounded by the object's own page, and refused when not positive integers", async () => {
    const ref = uniqueRef();
    const remote = store.stream(ref) as unknown as Paged & ReturnType<typeof store.stream>;
    for (let i = 0; i < 600; i += 300) {
      await remote.append(Array.from({ length: 300 }, (_, j) => sized(i + j + 1)));
    }
    const page = await remote.readPage({}, { maxEvents: 10_000, maxBytes: 1 << 30 });
    expect(page.events).toHaveLength(READ_PAGE_LIMITS.maxEvents);
    expect(page.next).toEqual({ from: 501, to: 600 });
    const rpc = eventStoreObjectRpc(env.STORE.get(env.STORE.idFromName(streamObjectName(ref))));
    for (const [page, field] of [
      [{ maxEvents: 0, maxBytes: 10 }, 'page.maxEvents'],
      [{ maxEvents: 5, maxBytes: 1.5 }, 'page.maxBytes'],
      [null, 'page'],
    ] as const) {
      // biome-ignore lint/suspicious/noExplicitAny: limits the RPC type does not allow
      const result = await rpc.read({ ref, page: page as any });
      const error = (() => {
        try {
          unwrapResult(result);
        } catch (caught) {
          return caught;
        }
      })();
      expect(isInvalidArgumentError(error)).toBe(true);
      expect((error as { field?: string }).field).toBe(field);
    }
  });
});
