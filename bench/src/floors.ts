import { type BenchStore, type Deposit, foldDeposits, type Subject } from './subject.js';

/**
 * Raw floors: what a store costs with nothing but a `Map` of arrays (append = push,
 * read = slice), optionally with one `structuredClone` per call on write and on read,
 * which is the least a store that isolates its callers from its data has to do.
 * Both keep the expected-version check and are async like every store API.
 */
const mapStore = (clone: boolean): BenchStore => {
  const streams = new Map<string, Deposit[]>();
  const slice = (stream: string, from = 1, to?: number): Deposit[] => {
    const list = streams.get(stream)?.slice(from - 1, to) ?? [];
    return clone ? structuredClone(list) : list;
  };
  return {
    async append(stream, events, expected) {
      let list = streams.get(stream);
      if (list === undefined) {
        list = [];
        streams.set(stream, list);
      }
      if (list.length !== expected) throw new Error(`version mismatch on ${stream}`);
      for (const event of clone ? structuredClone(events) : events) list.push(event);
    },
    async read(stream, from, to) {
      return slice(stream, from, to).length;
    },
    async version(stream) {
      return streams.get(stream)?.length ?? 0;
    },
    async replay(stream) {
      return foldDeposits(undefined, slice(stream));
    },
  };
};

export const mapFloor: Subject = { name: 'Map', create: () => mapStore(false) };

export const cloneFloor: Subject = { name: 'Map+clone', create: () => mapStore(true) };
