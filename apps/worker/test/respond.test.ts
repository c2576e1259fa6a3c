import { isCorruptRecordError } from '@eventkv/core';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../src/failures.js';
import { wire } from '../src/respond.js';

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
  metadata: {
    database: 'acme',
    aggregateType: 'Account',
    aggregateId: '7',
    messageId: `m-${version}`,
  },
});

describe('responses of stored data', () => {
  it('a stored record that cannot be written as wire JSON is CORRUPT_RECORD naming it, answered 422', async () => {
    let error: unknown;
    try {
      wire({ events: [event(1, { ok: true }), event(2, cyclic())] });
    } catch (caught) {
      error = caught;
    }
    expect(isCorruptRecordError(error)).toBe(true);
    expect(error).toMatchObject({ key: 'acme/Account/7/event/2', version: 2 });
    const response = errorResponse(error);
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({
      error: { code: 'CORRUPT_RECORD', key: 'acme/Account/7/event/2', version: 2 },
    });
  });

  it('names an unwritable snapshot too', () => {
    let error: unknown;
    try {
      wire({ snapshot: { version: 4, state: cyclic(), takenAt: 1 }, events: [], version: 4 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'CORRUPT_RECORD', key: 'snapshot/4', version: 4 });
  });
});
