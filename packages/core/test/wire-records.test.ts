import { describe, expect, it } from 'vitest';
import { errorToJSON, isCorruptRecordError, storedToWire, toWireJson } from '../src/index.js';

/** A record the payload contract would refuse today, as older data may hold. */
const cyclic = () => {
  const node: Record<string, unknown> = { name: 'loop' };
  node.self = node;
  return node;
};

const event = (version: number, data: unknown) => ({
  type: 'Opened',
  version,
  data,
  metadata: { database: 'acme', aggregateType: 'Account', aggregateId: '7' },
});

const thrown = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('storedToWire (an answer of stored records as wire JSON)', () => {
  it('is toWireJson for what can be written', () => {
    const page = { events: [event(1, { at: new Date(0), n: 1n, z: -0 })], next: { from: 2 } };
    expect(storedToWire(page)).toBe(toWireJson(page));
  });

  it('names the first record that cannot be written: an event, a snapshot, else the answer', () => {
    const ofEvent = thrown(() =>
      storedToWire({ events: [event(1, {}), event(2, cyclic()), event(3, cyclic())] }),
    );
    expect(isCorruptRecordError(ofEvent)).toBe(true);
    expect(errorToJSON(ofEvent)).toMatchObject({
      code: 'CORRUPT_RECORD',
      key: 'acme/Account/7/event/2',
      version: 2,
    });
    expect((ofEvent as Error).message).toContain('cannot be written as wire JSON');
    expect(
      thrown(() => storedToWire({ snapshot: { version: 4, state: cyclic() }, events: [] })),
    ).toMatchObject({ code: 'CORRUPT_RECORD', key: 'snapshot/4', version: 4 });
    expect(thrown(() => storedToWire({ total: cyclic() }))).toMatchObject({
      code: 'CORRUPT_RECORD',
      key: 'response',
      version: undefined,
    });
  });
});
