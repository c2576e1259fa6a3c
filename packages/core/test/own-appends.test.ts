import { describe, expect, it } from 'vitest';
import { OwnAppends } from '../src/index.js';

const ref = (type: string, id: string, database = 'db') => ({ database, type, id });

describe('OwnAppends (read-your-writes of a remote store)', () => {
  it("keeps each stream's last version per database, apart for names that join alike", () => {
    const own = new OwnAppends(10, 10);
    own.appended(ref('a/b', 'c'), 1);
    own.appended(ref('a', 'b/c'), 2);
    own.appended(ref('a', 'b/c'), 3);
    own.appended(ref('a', 'b/c'), 2); // an answer that arrived late changes nothing
    own.appended(ref('x', 'y', 'other'), 7);
    expect(own.of('db')).toEqual([
      { ref: ref('a/b', 'c'), version: 1 },
      { ref: ref('a', 'b/c'), version: 3 },
    ]);
    expect(own.of('other')).toEqual([{ ref: ref('x', 'y', 'other'), version: 7 }]);
    expect(own.of('none')).toEqual([]);
  });

  it('forgets what a read found held, unless appended to again meanwhile', () => {
    const own = new OwnAppends(10, 10);
    own.appended(ref('A', '1'), 1);
    own.appended(ref('A', '2'), 1);
    const waited = own.of('db');
    own.appended(ref('A', '2'), 2);
    own.held('db', waited);
    expect(own.of('db')).toEqual([{ ref: ref('A', '2'), version: 2 }]);
    own.held('db', own.of('db'));
    expect(own.of('db')).toEqual([]);
  });

  it('is bounded in streams and databases, the least recently appended to forgotten first', () => {
    const own = new OwnAppends(2, 2);
    own.appended(ref('A', '1'), 1);
    own.appended(ref('A', '2'), 1);
    own.appended(ref('A', '1'), 2);
    own.appended(ref('A', '3'), 1);
    expect(own.of('db').map((a) => a.ref.id)).toEqual(['1', '3']);
    own.appended(ref('A', '1', 'second'), 1);
    own.appended(ref('A', '1', 'db'), 3);
    own.appended(ref('A', '1', 'third'), 1);
    expect(own.of('second')).toEqual([]);
    expect(own.of('db')).toHaveLength(2);
    expect(own.of('third')).toHaveLength(1);
  });
});
