/**
 * The memory adapter's keys and values, in key order: a sorted list of short sorted
 * lists, the layout of Python's SortedContainers ("list of lists" with the largest key of
 * each list kept for bisecting). Finding a key is a binary search over `maxes`, then one
 * in its list; inserting adds a short `splice` (or a push, when the key is its list's
 * largest, which is how versions, log positions and index times arrive). Lists split at
 * twice `LOAD` and are joined with a neighbour below half of it.
 *
 * It is the adapter's only index. A Map beside it made point reads O(1), but every new
 * key then cost a hash of the whole key (tens of characters, hashed once per new string)
 * and a hash-table insert as well as the ordered insert: appends, which create several
 * keys each, ran 1.2x to 1.6x faster without it (bench/README.md). Point reads now cost a
 * binary search, O(log n) string comparisons.
 *
 * Why not `sorted-btree` (used before): on the store's own keys (long shared prefixes,
 * mostly ascending within a prefix) it inserted about 3x slower. Its generic comparator,
 * recursive descent and node objects cost more than two flat binary searches over string
 * arrays, and insertion speed is what the append path needs.
 */
const LOAD = 64;

/** First index in `keys` whose key is >= `key` (`keys.length` if none). */
const lowerBound = (keys: readonly string[], key: string): number => {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/**
 * A scanned entry. Built by a constructor, not an object literal: V8 may decide to
 * allocate an object literal's objects straight in the old generation when many of them
 * outlive a young-generation GC, as a scan's entries do when it runs during one; it never
 * does for a class, and entries so allocated made whole-stream reads about 6x slower in
 * roughly one process in three (bench W2a/W2b, whichever happened to run into it).
 */
class Entry<V> {
  readonly key: string;
  readonly value: V;
  constructor(key: string, value: V) {
    this.key = key;
    this.value = value;
  }
}

export class SortedKeys<V> {
  /** Sorted lists of keys, in order; never empty lists. */
  readonly #keys: string[][] = [];
  /** The values, in the same shape as `#keys`. */
  readonly #values: V[][] = [];
  /** The last (largest) key of each list. */
  readonly #maxes: string[] = [];

  /** Index of the first list whose largest key is >= `key`, or the last list. */
  #listFor(key: string): number {
    const maxes = this.#maxes;
    const last = maxes.length - 1;
    if (last <= 0 || key > (maxes[last - 1] as string)) return Math.max(last, 0);
    return lowerBound(maxes, key);
  }

  // Where the last `get` looked: a commit checks that a new key is absent, then puts it,
  // and `set` can then insert it with two comparisons instead of a search. The position
  // is used only when the keys around it still bracket the key (see `set`), so whatever
  // changed in between, it is never used wrongly.
  #lastKey: string | undefined;
  #lastList = 0;
  #lastAt = 0;

  /** The value of `key`, or undefined. */
  get(key: string): V | undefined {
    if (this.#maxes.length === 0) return undefined;
    const li = this.#listFor(key);
    const keys = this.#keys[li] as string[];
    const at = lowerBound(keys, key);
    this.#lastKey = key;
    this.#lastList = li;
    this.#lastAt = at;
    return keys[at] === key ? (this.#values[li] as V[])[at] : undefined;
  }

  /** Inserts `key` at the position the last `get` found for it, if still right there. */
  #insertWhereLastFound(key: string, value: V): boolean {
    if (key !== this.#lastKey) return false;
    this.#lastKey = undefined;
    const li = this.#lastList;
    const at = this.#lastAt;
    const keys = this.#keys[li];
    // Strictly inside a list: its neighbours there prove the list and the position.
    if (keys === undefined || at <= 0 || at >= keys.length) return false;
    if (!((keys[at - 1] as string) < key && key < (keys[at] as string))) return false;
    keys.splice(at, 0, key);
    (this.#values[li] as V[]).splice(at, 0, value);
    if (keys.length > 2 * LOAD) this.#split(li);
    return true;
  }

  /** The list where `#place` found a key present. */
  #foundList = 0;

  /** Sets `key` to `value`, inserting it in order if it is new. */
  set(key: string, value: V): void {
    if (this.#insertWhereLastFound(key, value)) return;
    const at = this.#place(key, value);
    if (at >= 0) (this.#values[this.#foundList] as V[])[at] = value;
  }

  /**
   * Inserts `key` with `value` unless it is present, and returns the value it had
   * (`undefined`: inserted). One search, where a `get` then a `set` would take two.
   */
  add(key: string, value: V): V | undefined {
    const at = this.#place(key, value);
    return at < 0 ? undefined : (this.#values[this.#foundList] as V[])[at];
  }

  /**
   * Inserts `key` in order and returns -1, or, if it is present, leaves it and returns
   * its position in list `#foundList`.
   */
  #place(key: string, value: V): number {
    if (this.#maxes.length === 0) {
      this.#keys.push([key]);
      this.#values.push([value]);
      this.#maxes.push(key);
      return -1;
    }
    const li = this.#listFor(key);
    const keys = this.#keys[li] as string[];
    const values = this.#values[li] as V[];
    if (key > (keys[keys.length - 1] as string)) {
      keys.push(key);
      values.push(value);
      this.#maxes[li] = key;
    } else {
      const at = lowerBound(keys, key);
      if (keys[at] === key) {
        this.#foundList = li;
        return at;
      }
      keys.splice(at, 0, key);
      values.splice(at, 0, value);
    }
    if (keys.length > 2 * LOAD) this.#split(li);
    return -1;
  }

  #split(li: number): void {
    const keys = this.#keys[li] as string[];
    const values = this.#values[li] as V[];
    const rightKeys = keys.splice(LOAD);
    const rightValues = values.splice(LOAD);
    this.#keys.splice(li + 1, 0, rightKeys);
    this.#values.splice(li + 1, 0, rightValues);
    this.#maxes.splice(li, 0, keys[keys.length - 1] as string);
  }

  /** Removes `key` if present. */
  delete(key: string): void {
    if (this.#maxes.length === 0) return;
    const li = this.#listFor(key);
    const keys = this.#keys[li] as string[];
    const values = this.#values[li] as V[];
    const at = lowerBound(keys, key);
    if (keys[at] !== key) return;
    keys.splice(at, 1);
    values.splice(at, 1);
    if (keys.length === 0) {
      this.#keys.splice(li, 1);
      this.#values.splice(li, 1);
      this.#maxes.splice(li, 1);
      return;
    }
    this.#maxes[li] = keys[keys.length - 1] as string;
    if (keys.length < LOAD / 2 && this.#keys.length > 1) this.#join(li);
  }

  /** Joins list `li` with a neighbour, splitting the result again if it grew too long. */
  #join(li: number): void {
    const left = li > 0 ? li - 1 : li;
    const keys = (this.#keys[left] as string[]).concat(this.#keys[left + 1] as string[]);
    const values = (this.#values[left] as V[]).concat(this.#values[left + 1] as V[]);
    this.#keys.splice(left, 2, keys);
    this.#values.splice(left, 2, values);
    this.#maxes.splice(left, 2, keys[keys.length - 1] as string);
    if (keys.length > 2 * LOAD) this.#split(left);
  }

  /**
   * The entries with keys in [start, end) (either bound open when undefined), in
   * ascending or, with `reverse`, descending order, at most `limit` of them. A list that
   * lies wholly inside the range is copied without comparing its keys to the bound.
   */
  entries(
    start: string | undefined,
    end: string | undefined,
    reverse: boolean,
    limit: number,
  ): { key: string; value: V }[] {
    const out: { key: string; value: V }[] = [];
    const lists = this.#keys;
    const all = this.#values;
    if (lists.length === 0 || limit <= 0) return out;
    if (!reverse) {
      let li = start === undefined ? 0 : this.#listFor(start);
      let i = start === undefined ? 0 : lowerBound(lists[li] as string[], start);
      for (; li < lists.length; li++, i = 0) {
        const keys = lists[li] as string[];
        const values = all[li] as V[];
        const inside = end === undefined || (this.#maxes[li] as string) < end;
        for (; i < keys.length; i++) {
          const key = keys[i] as string;
          if (!inside && key >= (end as string)) return out;
          if (out.push(new Entry(key, values[i] as V)) >= limit) return out;
        }
      }
      return out;
    }
    let li = end === undefined ? lists.length - 1 : this.#listFor(end);
    let i =
      end === undefined
        ? (lists[li] as string[]).length - 1
        : lowerBound(lists[li] as string[], end) - 1;
    for (; li >= 0; li--, i = li >= 0 ? (lists[li] as string[]).length - 1 : 0) {
      const keys = lists[li] as string[];
      const values = all[li] as V[];
      const inside = start === undefined || (keys[0] as string) >= start;
      for (; i >= 0; i--) {
        const key = keys[i] as string;
        if (!inside && key < (start as string)) return out;
        if (out.push(new Entry(key, values[i] as V)) >= limit) return out;
      }
    }
    return out;
  }
}
